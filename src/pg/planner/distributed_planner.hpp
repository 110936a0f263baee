// The planner hook: a query that reads or writes distributed or reference
// tables is planned as a distributed plan (router_plan.hpp); any other query
// goes to the standard planner untouched.
#pragma once

namespace phantom::pg {

// While one is alive, every query plans locally, shells included: for the
// extension's own SPI access to a shell (moving rows in or out of it).
class LocalPlanningScope {
 public:
  LocalPlanningScope();
  ~LocalPlanningScope();
  LocalPlanningScope(const LocalPlanningScope&) = delete;
  LocalPlanningScope& operator=(const LocalPlanningScope&) = delete;

 private:
  bool saved_;
};

bool PlanningLocally();

// From _PG_init.
void InstallPlannerHook();

}  // namespace phantom::pg
