// write_file_atomic / read_file: whole files or nothing, no temporary left behind.
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <string>
#include <vector>

#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace converter {
namespace {

class AtomicWrite : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/qgnn-file-io-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    for (const std::string& name : entries()) ::unlink((dir_ + "/" + name).c_str());
    ::chmod(dir_.c_str(), 0700);
    ::rmdir(dir_.c_str());
  }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(dir_.c_str())) {
      while (dirent* e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
      }
      ::closedir(d);
    }
    return names;
  }
  std::string dir_;
};

TEST_F(AtomicWrite, WritesAndReadsBackExactBytes) {
  std::vector<uint8_t> bytes(100000);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 31 + 7);
  const std::string path = dir_ + "/model.qgnn";
  const auto written = write_file_atomic(path, bytes);
  ASSERT_TRUE(written.ok()) << written.error;
  const auto read = read_file(path);
  ASSERT_TRUE(read.ok()) << read.error;
  EXPECT_EQ(read.value, bytes);
  EXPECT_EQ(entries(), std::vector<std::string>{"model.qgnn"});  // no temporary left behind
}

TEST_F(AtomicWrite, ReplacesAnExistingFileAndWritesEmptyFiles) {
  const std::string path = dir_ + "/out.bin";
  ASSERT_TRUE(write_file_atomic(path, {1, 2, 3}).ok());
  ASSERT_TRUE(write_file_atomic(path, {9}).ok());
  EXPECT_EQ(read_file(path).value, std::vector<uint8_t>{9});
  ASSERT_TRUE(write_file_atomic(path, {}).ok());
  const auto empty = read_file(path);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty.value.empty());
  EXPECT_EQ(entries().size(), 1u);
}

TEST_F(AtomicWrite, UnwritableDirectoryLeavesTargetUnchanged) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  const std::string path = dir_ + "/keep.bin";
  ASSERT_TRUE(write_file_atomic(path, {4, 5, 6}).ok());
  ASSERT_EQ(::chmod(dir_.c_str(), 0500), 0);
  const auto failed = write_file_atomic(path, {7, 7, 7, 7});
  ::chmod(dir_.c_str(), 0700);
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.error.find(path), std::string::npos) << failed.error;
  EXPECT_EQ(read_file(path).value, (std::vector<uint8_t>{4, 5, 6}));
  EXPECT_EQ(entries(), std::vector<std::string>{"keep.bin"});
}

TEST_F(AtomicWrite, FailedWriteMidwayLeavesTargetUnchangedAndNoTemporary) {
  // A file size limit makes write() fail part way (EFBIG), like a full disk would.
  const std::string path = dir_ + "/keep.bin";
  ASSERT_TRUE(write_file_atomic(path, {4, 5, 6}).ok());
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit small = saved;
  small.rlim_cur = 4096;
  const auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const auto failed = write_file_atomic(path, std::vector<uint8_t>(100000, 1));
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous_handler);
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.error.find("cannot write"), std::string::npos) << failed.error;
  EXPECT_EQ(read_file(path).value, (std::vector<uint8_t>{4, 5, 6}));
  EXPECT_EQ(entries(), std::vector<std::string>{"keep.bin"});
}

TEST_F(AtomicWrite, UnwritableLocationFails) {
  // Even root cannot create files in /proc.
  const auto failed = write_file_atomic("/proc/qgnn-converter-test.bin", {1, 2});
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.error.find("temporary"), std::string::npos) << failed.error;
}

TEST_F(AtomicWrite, RenameFailureLeavesTargetUnchangedAndNoTemporary) {
  // The target is a non-empty directory: the temporary is written, rename() fails, the temporary goes.
  const std::string target = dir_ + "/occupied";
  ASSERT_EQ(::mkdir(target.c_str(), 0700), 0);
  ASSERT_TRUE(write_file_atomic(target + "/inner", {1}).ok());
  const auto failed = write_file_atomic(target, {1, 2, 3});
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.error.find("rename"), std::string::npos) << failed.error;
  EXPECT_EQ(entries(), std::vector<std::string>{"occupied"});
  ::unlink((target + "/inner").c_str());
  ::rmdir(target.c_str());
}

TEST_F(AtomicWrite, MissingDirectoryFails) {
  const auto failed = write_file_atomic(dir_ + "/no/such/dir/file", {1});
  EXPECT_FALSE(failed.ok());
  EXPECT_FALSE(write_file_atomic("", {1}).ok());
}

TEST(ReadFile, MissingFileAndDirectoryFail) {
  const auto missing = read_file("/nonexistent/qgnn/file.qgnn");
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.error.find("/nonexistent/qgnn/file.qgnn"), std::string::npos);
  EXPECT_FALSE(read_file("/tmp").ok());
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
