// Canonical bytes of Postgres values for the distribution hash; see
// distribution_value.hpp and docs/distributed-tables.md.
#include "pg/sharding/distribution_value.hpp"

#include <array>

#include "core/common/error.hpp"
#include "core/sharding/distribution_hash.hpp"
#include "core/sharding/shard_map.hpp"
#include "pg/guard.hpp"

extern "C" {
#include "access/stratnum.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
#include "utils/uuid.h"
}

namespace phantom::pg {

namespace {

constexpr const char* kSupportedTypes =
    "Distribution columns may be smallint, integer, bigint, text, varchar, char, uuid, numeric, date, timestamp, "
    "timestamptz, bytea, boolean, an enum, or a domain over one of these.";

Oid BaseType(Oid type) {
  return PgCall([&] { return getBaseType(type); });
}

bool IsEnum(Oid type) {
  return PgCall([&] { return type_is_enum(type); });
}

std::string Bytes(Datum value) {
  // Detoasts; the copy is palloc'd in the current (per-query) context.
  struct varlena* detoasted =
      PgCall([&] { return pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(value))); });
  return std::string(VARDATA_ANY(detoasted), VARSIZE_ANY_EXHDR(detoasted));
}

std::string OutputText(Oid function, Datum value) {
  const char* text = PgCall([&] { return DatumGetCString(OidFunctionCall1(function, value)); });
  return std::string(text);
}

}  // namespace

void CheckDistributionType(Oid type, Oid collation, const std::string& column) {
  const Oid base = BaseType(type);
  bool supported = false;
  switch (base) {
    case INT2OID:
    case INT4OID:
    case INT8OID:
    case UUIDOID:
    case NUMERICOID:
    case DATEOID:
    case TIMESTAMPOID:
    case TIMESTAMPTZOID:
    case BYTEAOID:
    case BOOLOID:
      supported = true;
      break;
    case TEXTOID:
    case VARCHAROID:
    case BPCHAROID: {
      supported = true;
      const bool deterministic =
          !OidIsValid(collation) || PgCall([&] { return get_collation_isdeterministic(collation); });
      if (!deterministic)
        throw Error(sqlstate::kFeatureNotSupported,
                    "cannot distribute by column \"" + column + "\": its collation is nondeterministic", "",
                    "Equal values of a nondeterministic collation may differ in bytes; distribute by a column with "
                    "a deterministic collation.");
      break;
    }
    default:
      supported = IsEnum(base);
  }
  if (!supported) {
    const char* name = PgCall([&] { return format_type_be(type); });
    throw Error(sqlstate::kFeatureNotSupported, "cannot distribute by column \"" + column + "\" of type " + name, "",
                kSupportedTypes);
  }
}

int32_t DistributionHashOf(Datum value, Oid type) {
  using namespace phantom::sharding;
  const Oid base = BaseType(type);
  switch (base) {
    case INT2OID:
      return DistributionHash(CanonicalInteger(DatumGetInt16(value)));
    case INT4OID:
      return DistributionHash(CanonicalInteger(DatumGetInt32(value)));
    case INT8OID:
      return DistributionHash(CanonicalInteger(DatumGetInt64(value)));
    case TEXTOID:
    case VARCHAROID:
      return DistributionHash(CanonicalText(Bytes(value)));
    case BPCHAROID:
      return DistributionHash(CanonicalBpchar(Bytes(value)));
    case BYTEAOID:
      return DistributionHash(Bytes(value));
    case BOOLOID:
      return DistributionHash(CanonicalBool(DatumGetBool(value)));
    case UUIDOID: {
      const pg_uuid_t* uuid = DatumGetUUIDP(value);
      std::array<uint8_t, 16> bytes{};
      for (size_t i = 0; i < bytes.size(); i++) bytes[i] = uuid->data[i];
      return DistributionHash(CanonicalUuid(bytes));
    }
    case NUMERICOID:
      return DistributionHash(CanonicalNumeric(OutputText(F_NUMERIC_OUT, value)));
    case DATEOID:
      return DistributionHash(CanonicalDate(DatumGetDateADT(value)));
    case TIMESTAMPOID:
      return DistributionHash(CanonicalTimestamp(DatumGetTimestamp(value)));
    case TIMESTAMPTZOID:
      return DistributionHash(CanonicalTimestamp(DatumGetTimestampTz(value)));
    default:
      break;
  }
  if (IsEnum(base)) return DistributionHash(CanonicalText(OutputText(F_ENUM_OUT, value)));
  const char* name = PgCall([&] { return format_type_be(type); });
  throw Error(sqlstate::kFeatureNotSupported, std::string("cannot hash a distribution value of type ") + name);
}

bool IsDistributionEquality(Oid opno, Oid column_type, Oid value_type) {
  auto is_integer = [](Oid type) { return type == INT2OID || type == INT4OID || type == INT8OID; };
  return PgCall([&] {
    TypeCacheEntry* entry = lookup_type_cache(column_type, TYPECACHE_EQ_OPR);
    if (entry->eq_opr == opno) return true;
    return is_integer(getBaseType(column_type)) && is_integer(getBaseType(value_type)) &&
           get_op_opfamily_strategy(opno, INTEGER_BTREE_FAM_OID) == BTEqualStrategyNumber;
  });
}

void AddShardsOfPin(Datum value, Oid type, int32_t shard_count, std::set<int32_t>& shards) {
  const Oid element_type = PgCall([&] { return get_element_type(type); });
  if (!OidIsValid(element_type)) {
    shards.insert(sharding::ShardIndexForHash(DistributionHashOf(value, type), shard_count));
    return;
  }
  Datum* elements = nullptr;
  bool* nulls = nullptr;
  int count = 0;
  PgCall([&] {
    int16 length = 0;
    bool by_value = false;
    char align = 0;
    get_typlenbyvalalign(element_type, &length, &by_value, &align);
    deconstruct_array(DatumGetArrayTypeP(value), element_type, length, by_value, align, &elements, &nulls, &count);
  });
  for (int e = 0; e < count; e++)
    if (!nulls[e])
      shards.insert(sharding::ShardIndexForHash(DistributionHashOf(elements[e], element_type), shard_count));
}

}  // namespace phantom::pg
