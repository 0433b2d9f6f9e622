// console.h on a host: stdout.
#include <cstdio>

#include "console.h"

void console_write(const char* text) { std::fputs(text, stdout); }
