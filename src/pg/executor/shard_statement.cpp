// See shard_statement.hpp.
#include "pg/executor/shard_statement.hpp"

#include <unordered_map>

#include "core/common/error.hpp"
#include "pg/guard.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/lsyscache.h"
}

namespace phantom::pg {

namespace {

ParamExternData* GetParam(ParamListInfo params, int id, ParamExternData* workspace) {
  if (params->paramFetch != nullptr) return PgCall([&] { return params->paramFetch(params, id, false, workspace); });
  return &params->params[id - 1];
}

// Local shard statements are planned once per backend and kept: the same
// few statements per shard repeat, and parsing and planning them again on
// every execution would cost more than running them. SPI's saved plans are
// revalidated by the plan cache when a shard's definition changes; shard
// names are never reused, so a stale entry can only fail, never misread.
constexpr size_t kMaxLocalPlans = 1024;
std::unordered_map<std::string, SPIPlanPtr> local_plans;

// The statement's own parameter values and types, as SPI takes them: on this
// node nothing needs converting.
struct LocalArgs {
  std::vector<Oid> types;
  std::vector<Datum> values;
  std::string nulls;  // ' ' or 'n' per parameter
};

LocalArgs LocalArgsOf(ParamListInfo params) {
  const int nargs = params ? params->numParams : 0;
  LocalArgs args{std::vector<Oid>(static_cast<size_t>(nargs)), std::vector<Datum>(static_cast<size_t>(nargs)),
                 std::string(static_cast<size_t>(nargs), ' ')};
  for (int i = 0; i < nargs; i++) {
    ParamExternData workspace;
    ParamExternData* param = GetParam(params, i + 1, &workspace);
    args.types[i] = OidIsValid(param->ptype) ? param->ptype : TEXTOID;
    args.values[i] = param->value;
    if (param->isnull) args.nulls[i] = 'n';
  }
  return args;
}

int AttributeOf(const ColumnMap& columns, int column) {
  return columns.empty() ? column : columns[static_cast<size_t>(column)];
}

void ExecutePlan(SPIPlanPtr plan, std::vector<Datum>& values, const std::string& nulls, bool read_only,
                 TupleDesc descriptor, const ColumnMap& columns, Tuplestorestate* rows, uint64_t& count) {
  PgCall([&] {
    int rc = SPI_execute_plan(plan, values.data(), nulls.c_str(), read_only, 0);
    if (rc < 0) elog(ERROR, "could not run a shard query locally: %s", SPI_result_code_string(rc));
    count = SPI_processed;
    if (rows == nullptr || SPI_tuptable == nullptr) return;
    const int natts = descriptor->natts;
    const int produced = SPI_tuptable->tupdesc->natts;
    Datum* result_values = static_cast<Datum*>(palloc(sizeof(Datum) * (produced + 1)));
    bool* result_nulls = static_cast<bool*>(palloc(sizeof(bool) * (produced + 1)));
    Datum* row_values = static_cast<Datum*>(palloc0(sizeof(Datum) * (natts + 1)));
    bool* row_nulls = static_cast<bool*>(palloc(sizeof(bool) * (natts + 1)));
    for (uint64_t r = 0; r < SPI_processed; r++) {
      heap_deform_tuple(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, result_values, result_nulls);
      for (int a = 0; a < natts; a++) row_nulls[a] = true;
      for (int c = 0; c < produced; c++) {
        const int a = AttributeOf(columns, c);
        if (a < 0) continue;
        row_values[a] = result_values[c];
        row_nulls[a] = result_nulls[c];
      }
      tuplestore_putvalues(rows, descriptor, row_values, row_nulls);
    }
  });
}

}  // namespace

uint64_t RunLocalStatement(const std::string& sql, ParamListInfo params, bool read_only, TupleDesc descriptor,
                           const ColumnMap& columns, Tuplestorestate* rows) {
  LocalArgs args = LocalArgsOf(params);
  std::string key = sql;
  for (Oid type : args.types) key += '\0' + std::to_string(type);
  SPIPlanPtr plan = nullptr;
  auto it = local_plans.find(key);
  if (it != local_plans.end()) {
    plan = it->second;
  } else {
    if (local_plans.size() >= kMaxLocalPlans) {
      for (auto& [text, saved] : local_plans) PgCall([&] { SPI_freeplan(saved); });
      local_plans.clear();
    }
    plan = PgCall([&] {
      SPIPlanPtr prepared = SPI_prepare(sql.c_str(), static_cast<int>(args.types.size()), args.types.data());
      if (prepared == nullptr)
        elog(ERROR, "could not plan a shard query locally: %s", SPI_result_code_string(SPI_result));
      SPI_keepplan(prepared);
      return prepared;
    });
    local_plans.emplace(std::move(key), plan);
  }
  uint64_t count = 0;
  try {
    ExecutePlan(plan, args.values, args.nulls, read_only, descriptor, columns, rows, count);
  } catch (const PgError& error) {
    // SPI adds "SQL statement ..." with the shard SQL; a user reads the
    // error of their own statement, as for a shard on another node.
    error.Data()->context = nullptr;
    throw;
  }
  return count;
}

Portal OpenLocalCursor(const std::string& sql, ParamListInfo params) {
  LocalArgs args = LocalArgsOf(params);
  return PgCall([&] {
    SPIPlanPtr plan =
        SPI_prepare_cursor(sql.c_str(), static_cast<int>(args.types.size()), args.types.data(), CURSOR_OPT_NO_SCROLL);
    if (plan == nullptr) elog(ERROR, "could not plan %s: %s", sql.c_str(), SPI_result_code_string(SPI_result));
    return SPI_cursor_open(nullptr, plan, args.values.data(), args.nulls.c_str(), true);
  });
}

RemoteParams RemoteParamsOf(ParamListInfo params, const std::vector<int>& used) {
  const int count = params ? params->numParams : 0;
  RemoteParams remote;
  remote.texts.resize(static_cast<size_t>(count));
  remote.values.assign(static_cast<size_t>(count), nullptr);
  remote.types.assign(static_cast<size_t>(count), TEXTOID);
  for (int id : used) {
    if (id < 1 || id > count) continue;
    ParamExternData workspace;
    ParamExternData* param = GetParam(params, id, &workspace);
    // Built-in types have the same oid everywhere; others are inferred there.
    remote.types[id - 1] = param->ptype < FirstNormalObjectId ? param->ptype : InvalidOid;
    if (param->isnull) continue;
    const char* text = PgCall([&] {
      Oid output = InvalidOid;
      bool varlena = false;
      getTypeOutputInfo(param->ptype, &output, &varlena);
      return OidOutputFunctionCall(output, param->value);
    });
    // texts never grows, so the strings stay where they are (moving the
    // vector keeps its elements in place too).
    remote.texts[id - 1] = text;
    remote.values[id - 1] = remote.texts[id - 1].c_str();
  }
  return remote;
}

RemoteRowReader::RemoteRowReader(TupleDesc descriptor, ColumnMap columns)
    : descriptor_(descriptor), columns_(std::move(columns)) {
  const int natts = descriptor_->natts;
  input_.resize(static_cast<size_t>(natts));
  ioparams_.resize(static_cast<size_t>(natts));
  PgCall([&] {
    for (int i = 0; i < natts; i++) {
      Form_pg_attribute attribute = TupleDescAttr(descriptor_, i);
      if (attribute->attisdropped) continue;
      Oid function = InvalidOid;
      getTypeInputInfo(attribute->atttypid, &function, &ioparams_[i]);
      fmgr_info(function, &input_[i]);
    }
  });
}

int RemoteRowReader::CheckedColumns(const PGresult* result) const {
  const int produced = PQnfields(result);
  const int expected = columns_.empty() ? descriptor_->natts : static_cast<int>(columns_.size());
  if (produced != expected)
    throw Error(sqlstate::kInternalError, "a shard returned " + std::to_string(produced) + " columns where " +
                                              std::to_string(expected) + " were expected");
  return produced;
}

void RemoteRowReader::Store(const PGresult* result, Tuplestorestate* rows) {
  const int natts = descriptor_->natts;
  const int produced = CheckedColumns(result);
  PgCall([&] {
    Datum* values = static_cast<Datum*>(palloc0(sizeof(Datum) * (natts + 1)));
    bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * (natts + 1)));
    for (int r = 0; r < PQntuples(result); r++) {
      for (int a = 0; a < natts; a++) nulls[a] = true;
      for (int c = 0; c < produced; c++) {
        const int a = AttributeOf(columns_, c);
        if (a < 0 || PQgetisnull(result, r, c)) continue;
        nulls[a] = false;
        values[a] = InputFunctionCall(&input_[a], PQgetvalue(result, r, c), ioparams_[a],
                                      TupleDescAttr(descriptor_, a)->atttypmod);
      }
      tuplestore_putvalues(rows, descriptor_, values, nulls);
    }
  });
}

void RemoteRowReader::ToSlot(const PGresult* result, int row, TupleTableSlot* slot) {
  const int natts = descriptor_->natts;
  const int produced = CheckedColumns(result);
  PgCall([&] {
    ExecClearTuple(slot);
    for (int a = 0; a < natts; a++) slot->tts_isnull[a] = true;
    for (int c = 0; c < produced; c++) {
      const int a = AttributeOf(columns_, c);
      if (a < 0 || PQgetisnull(result, row, c)) continue;
      slot->tts_isnull[a] = false;
      slot->tts_values[a] = InputFunctionCall(&input_[a], PQgetvalue(result, row, c), ioparams_[a],
                                              TupleDescAttr(descriptor_, a)->atttypmod);
    }
    ExecStoreVirtualTuple(slot);
  });
}

}  // namespace phantom::pg
