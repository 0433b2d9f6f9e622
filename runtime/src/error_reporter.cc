// Message formatting for qgnn_error (see error_reporter.h): a small, allocation-free printf subset.
#include "error_reporter.h"

#include <cmath>

#if !defined(QGNN_NO_ERROR_MESSAGES)  // else everything is inline in error_reporter.h

namespace qgnn {
namespace runtime {
namespace {

class Writer {
 public:
  Writer(char* out, size_t size) : out_(out), size_(size) {}
  void Put(char c) {
    if (length_ + 1 < size_) out_[length_++] = c;
  }
  void PutString(const char* s) {
    if (s == nullptr) s = "(null)";
    while (*s != '\0') Put(*s++);
  }
  void PutUnsigned(uint64_t v) {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) Put(digits[--n]);
  }
  void PutSigned(int64_t v) {
    if (v < 0) {
      Put('-');
      PutUnsigned(static_cast<uint64_t>(0) - static_cast<uint64_t>(v));
    } else {
      PutUnsigned(static_cast<uint64_t>(v));
    }
  }
  // Enough precision to tell scales apart in a message; not a faithful %g.
  void PutDouble(double v) {
    if (std::isnan(v)) return PutString("nan");
    if (v < 0 || (v == 0 && std::signbit(v))) {
      Put('-');
      v = -v;
    }
    if (std::isinf(v)) return PutString("inf");
    int exponent = 0;
    if (v != 0 && (v >= 1e9 || v < 1e-4)) {
      while (v >= 10) {
        v /= 10;
        ++exponent;
      }
      while (v < 1) {
        v *= 10;
        --exponent;
      }
    }
    // Six significant fractional digits, trailing zeros trimmed.
    uint64_t whole = static_cast<uint64_t>(v);
    uint64_t frac = static_cast<uint64_t>((v - static_cast<double>(whole)) * 1e6 + 0.5);
    if (frac >= 1000000) {
      ++whole;
      frac -= 1000000;
    }
    PutUnsigned(whole);
    if (frac != 0) {
      char digits[6];
      for (int i = 5; i >= 0; --i) {
        digits[i] = static_cast<char>('0' + frac % 10);
        frac /= 10;
      }
      int last = 5;
      while (last > 0 && digits[last] == '0') --last;
      Put('.');
      for (int i = 0; i <= last; ++i) Put(digits[i]);
    }
    if (exponent != 0) {
      Put('e');
      PutSigned(exponent);
    }
  }
  size_t Finish() {
    if (size_ > 0) out_[length_] = '\0';
    return length_;
  }

 private:
  char* out_;
  size_t size_;
  size_t length_ = 0;
};

}  // namespace

size_t FormatV(char* out, size_t size, const char* fmt, va_list args) {
  Writer w(out, size);
  for (const char* p = fmt; *p != '\0'; ++p) {
    if (*p != '%') {
      w.Put(*p);
      continue;
    }
    ++p;
    int longs = 0;
    bool size_t_arg = false;
    while (*p == 'l' || *p == 'z') {
      if (*p == 'l') ++longs;
      if (*p == 'z') size_t_arg = true;
      ++p;
    }
    switch (*p) {
      case 's':
        w.PutString(va_arg(args, const char*));
        break;
      case 'd':
      case 'i':
        if (size_t_arg) {
          w.PutSigned(static_cast<int64_t>(va_arg(args, ptrdiff_t)));
        } else if (longs >= 2) {
          w.PutSigned(va_arg(args, long long));
        } else if (longs == 1) {
          w.PutSigned(va_arg(args, long));
        } else {
          w.PutSigned(va_arg(args, int));
        }
        break;
      case 'u':
        if (size_t_arg) {
          w.PutUnsigned(va_arg(args, size_t));
        } else if (longs >= 2) {
          w.PutUnsigned(va_arg(args, unsigned long long));
        } else if (longs == 1) {
          w.PutUnsigned(va_arg(args, unsigned long));
        } else {
          w.PutUnsigned(va_arg(args, unsigned int));
        }
        break;
      case 'g':
      case 'f':
        w.PutDouble(va_arg(args, double));
        break;
      case '%':
        w.Put('%');
        break;
      case '\0':
        return w.Finish();
      default:
        w.Put('%');
        w.Put(*p);
        break;
    }
  }
  return w.Finish();
}

size_t Format(char* out, size_t size, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  const size_t n = FormatV(out, size, fmt, args);
  va_end(args);
  return n;
}

qgnn_status ErrorReporter::Report(qgnn_status status, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  ReportV(status, fmt, args);
  va_end(args);
  return status;
}

qgnn_status ErrorReporter::ReportV(qgnn_status status, const char* fmt, va_list args) {
  if (error_ != nullptr) {
    error_->status = status;
    FormatV(error_->message, sizeof(error_->message), fmt, args);
  }
  return status;
}

qgnn_status ErrorReporter::ReportLayer(qgnn_status status, uint32_t layer, const char* name, const char* fmt,
                                       ...) {
  va_list args;
  va_start(args, fmt);
  ReportLayerV(status, layer, name, fmt, args);
  va_end(args);
  return status;
}

qgnn_status ErrorReporter::ReportLayerV(qgnn_status status, uint32_t layer, const char* name, const char* fmt,
                                        va_list args) {
  if (error_ != nullptr) {
    error_->status = status;
    const size_t n =
        (name != nullptr && name[0] != '\0')
            ? Format(error_->message, sizeof(error_->message), "layer %" PRIu32 " (%s): ", layer, name)
            : Format(error_->message, sizeof(error_->message), "layer %" PRIu32 ": ", layer);
    FormatV(error_->message + n, sizeof(error_->message) - n, fmt, args);
  }
  return status;
}

qgnn_status ErrorReporter::Ok() {
  if (error_ != nullptr) {
    error_->status = QGNN_OK;
    error_->message[0] = '\0';
  }
  return QGNN_OK;
}

}  // namespace runtime
}  // namespace qgnn

#endif  // !QGNN_NO_ERROR_MESSAGES
