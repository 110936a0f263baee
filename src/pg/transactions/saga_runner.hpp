// The maintenance worker's saga duty (docs/sagas.md): each call runs at most
// one action (a forward statement or a compensation) of one due saga and
// records its outcome, so that sagas advance side by side and the worker's
// other duties get their turn between two statements.
//
// Guarantees:
//  - A local step (no node) runs in a subtransaction of the duty's
//    transaction, as the saga's owner; its effect and the saga's progress
//    commit together, so it takes effect exactly once, whatever crashes.
//  - A remote step runs on an autocommit connection to its node, as the
//    owner's user name, and commits there before the progress is recorded
//    here: a crash in between runs it again. Remote steps run at least once;
//    their statements should be idempotent.
#pragma once

namespace phantom::pg::saga_runner {

// One action of one due saga. Returns how many ms until it wants to run
// again: 0 after an action (more may be due), else the time until the
// earliest retry, at most 1000 (sagas started meanwhile are found by then).
// Failures of a saga's statements are that saga's outcome; other errors
// postpone the saga, and only errors writing the catalog escape.
int RunOne();

}  // namespace phantom::pg::saga_runner
