#include "core/metadata/cluster_id.hpp"

#include <gtest/gtest.h>

#include "core/common/error.hpp"

namespace phantom::metadata {
namespace {

TEST(ClusterIdTest, MakeSetsVersionAndVariant) {
  ClusterId random{};
  random.fill(0xff);
  ClusterId id = MakeClusterId(random);
  EXPECT_EQ(FormatClusterId(id), "ffffffff-ffff-4fff-bfff-ffffffffffff");
  random.fill(0x00);
  EXPECT_EQ(FormatClusterId(MakeClusterId(random)), "00000000-0000-4000-8000-000000000000");
}

TEST(ClusterIdTest, FormatAndParseRoundTrip) {
  ClusterId id{};
  for (size_t i = 0; i < id.size(); i++) id[i] = static_cast<uint8_t>(i * 17 + 3);
  std::string text = FormatClusterId(id);
  EXPECT_EQ(text, "03142536-4758-697a-8b9c-adbecfe0f102");
  EXPECT_EQ(ParseClusterId(text), id);
  EXPECT_EQ(ParseClusterId("03142536-4758-697A-8B9C-ADBECFE0F102"), id);
}

TEST(ClusterIdTest, RejectsMalformedText) {
  for (const char* bad : {"", "03142536", "03142536-4758-697a-8b9c-adbecfe0f10",
                          "03142536-4758-697a-8b9c-adbecfe0f1022", "0314253-64758-697a-8b9c-adbecfe0f102",
                          "g3142536-4758-697a-8b9c-adbecfe0f102", "03142536x4758-697a-8b9c-adbecfe0f102"}) {
    try {
      ParseClusterId(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& error) {
      EXPECT_EQ(error.Sqlstate(), "22023");
      EXPECT_EQ(error.Message(), std::string("invalid cluster id \"") + bad + "\"");
    }
  }
}

}  // namespace
}  // namespace phantom::metadata
