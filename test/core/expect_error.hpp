// Asserts that a call throws phantom::Error with exactly the SQLSTATE,
// message, detail and hint a user would see.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "core/common/error.hpp"

namespace phantom {

struct ExpectedError {
  ExpectedError(std::string sqlstate_in, std::string message_in, std::string detail_in = {}, std::string hint_in = {})
      : sqlstate(std::move(sqlstate_in)),
        message(std::move(message_in)),
        detail(std::move(detail_in)),
        hint(std::move(hint_in)) {}

  std::string sqlstate;
  std::string message;
  std::string detail;
  std::string hint;
};

template <typename Call>
void ExpectError(Call&& call, const ExpectedError& expected) {
  try {
    call();
    ADD_FAILURE() << "no error; expected " << expected.sqlstate << " \"" << expected.message << "\"";
  } catch (const Error& error) {
    EXPECT_EQ(error.Sqlstate(), expected.sqlstate) << error.Message();
    EXPECT_EQ(error.Message(), expected.message);
    EXPECT_EQ(error.Detail(), expected.detail) << error.Message();
    EXPECT_EQ(error.Hint(), expected.hint) << error.Message();
  }
}

}  // namespace phantom
