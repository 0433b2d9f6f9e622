// SHA-256 (FIPS 180-4), streaming. Used by qgnn-run to fingerprint output logits bit for bit.
#ifndef QGNN_TOOLS_COMMON_SHA256_H_
#define QGNN_TOOLS_COMMON_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace qgnn {
namespace tools {

class Sha256 {
 public:
  Sha256();
  /// Absorb `size` bytes.
  void update(const void* data, size_t size);
  /// Finish and return the digest; the object must not be updated afterwards.
  std::array<uint8_t, 32> digest();
  /// Finish and return the digest as 64 lowercase hex digits.
  std::string hex_digest();

 private:
  void compress(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> block_;
  size_t block_used_ = 0;
  uint64_t total_bytes_ = 0;
};

/// One-shot helper: hex SHA-256 of a byte range.
std::string sha256_hex(const void* data, size_t size);

}  // namespace tools
}  // namespace qgnn

#endif  // QGNN_TOOLS_COMMON_SHA256_H_
