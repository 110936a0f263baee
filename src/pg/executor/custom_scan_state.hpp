// What the executor's CustomScans share: a Postgres CustomScanState that
// carries a C++ execution object, deleted with the query's memory (also when
// the query fails, which skips EndCustomScan).
#pragma once

#include "pg/guard.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "nodes/extensible.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
}

namespace phantom::pg {

template <typename Execution>
struct ScanStateWith {
  CustomScanState css;  // first: Postgres sees a CustomScanState
  Execution* execution;
};

// Allocates the state in the current (per-query) memory context and its
// execution with new; call from CreateCustomScanState under GuardHook.
template <typename Execution>
ScanStateWith<Execution>* NewScanState(const CustomExecMethods* methods) {
  using State = ScanStateWith<Execution>;
  auto* state = PgCall([] { return reinterpret_cast<State*>(newNode(sizeof(State), T_CustomScanState)); });
  state->css.methods = methods;
  state->execution = new Execution();
  PgCall([&] {
    auto* callback = static_cast<MemoryContextCallback*>(palloc0(sizeof(MemoryContextCallback)));
    callback->func = [](void* execution) { delete static_cast<Execution*>(execution); };
    callback->arg = state->execution;
    MemoryContextRegisterResetCallback(CurrentMemoryContext, callback);
  });
  return state;
}

// The rows a scan fetched, kept in a tuplestore (in memory up to work_mem,
// then on disk) and handed out one at a time. The first Store() makes it in
// the current memory context, which must be the query's (BeginCustomScan);
// End() is for EndCustomScan, and a failed query frees it with that context.
class StoredRows {
 public:
  Tuplestorestate* Store(bool rewindable) {
    if (rows_ == nullptr) {
      rows_ = PgCall([&] { return tuplestore_begin_heap(rewindable, false, work_mem); });
    }
    return rows_;
  }
  void Clear() {
    if (rows_ != nullptr) PgCall([&] { tuplestore_clear(rows_); });
  }
  void Rewind() {
    if (rows_ != nullptr) PgCall([&] { tuplestore_rescan(rows_); });
  }
  // Copies the next row into slot; false (and slot cleared) at the end.
  bool Next(TupleTableSlot* slot) {
    if (rows_ == nullptr) return false;
    // Tuplestores hand out minimal tuples; a scan's slot is virtual.
    if (fetch_slot_ == nullptr)
      fetch_slot_ = PgCall([&] { return MakeSingleTupleTableSlot(slot->tts_tupleDescriptor, &TTSOpsMinimalTuple); });
    return PgCall([&] {
      if (!tuplestore_gettupleslot(rows_, true, false, fetch_slot_)) {
        ExecClearTuple(slot);
        return false;
      }
      ExecCopySlot(slot, fetch_slot_);
      return true;
    });
  }
  void End() noexcept {
    if (fetch_slot_ != nullptr) ExecDropSingleTupleTableSlot(fetch_slot_);
    if (rows_ != nullptr) tuplestore_end(rows_);
    fetch_slot_ = nullptr;
    rows_ = nullptr;
  }

 private:
  Tuplestorestate* rows_ = nullptr;
  TupleTableSlot* fetch_slot_ = nullptr;
};

// The executor methods of a scan that fetches all its rows on its first
// call (Fetch fills execution->rows) and hands them out one at a time, with
// its quals and projection applied by ExecScan. Its rows depend only on the
// statement's parameters, which do not change within an execution, so a
// rescan rereads the rows already fetched.
template <typename Execution, void (*Fetch)(ScanStateWith<Execution>*)>
struct FetchOnceScan {
  using State = ScanStateWith<Execution>;

  // The store is made here, in the query's memory: later calls may run with
  // SPI's (shorter-lived) context current.
  static void Begin(CustomScanState* node, EState*, int) {
    GuardHook([&] { reinterpret_cast<State*>(node)->execution->rows.Store(true); });
  }
  static TupleTableSlot* Exec(CustomScanState* node) {
    return ExecScan(&node->ss, NextRow, [](ScanState*, TupleTableSlot*) { return true; });
  }
  static void End(CustomScanState* node) { reinterpret_cast<State*>(node)->execution->rows.End(); }
  static void ReScan(CustomScanState* node) {
    GuardHook([&] { reinterpret_cast<State*>(node)->execution->rows.Rewind(); });
  }

 private:
  static TupleTableSlot* NextRow(ScanState* scan) {
    return GuardHook([&] {
      auto* state = reinterpret_cast<State*>(scan);
      Execution& execution = *state->execution;
      if (!execution.fetched) {
        Fetch(state);
        execution.fetched = true;
      }
      execution.rows.Next(scan->ss_ScanTupleSlot);
      return scan->ss_ScanTupleSlot;
    });
  }
};

}  // namespace phantom::pg
