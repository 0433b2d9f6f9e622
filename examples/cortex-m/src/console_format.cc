// Integer printing for console.h, without stdio.
#include "console.h"

void console_uint(uint64_t value) {
  char digits[24];
  char* p = digits + sizeof(digits) - 1;
  *p = '\0';
  do {
    *--p = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  console_write(p);
}

void console_int(int64_t value) {
  if (value < 0) {
    console_write("-");
    // Negate in unsigned arithmetic: -INT64_MIN does not fit an int64_t.
    console_uint(0 - static_cast<uint64_t>(value));
  } else {
    console_uint(static_cast<uint64_t>(value));
  }
}
