// common.h — the few helpers every tutorial chapter shares: check() states a claim and stops
// the program (exit code 1) when it is false, so ctest fails on a wrong answer; section()
// prints a heading; run() turns an escaped exception into a failure with its message.
#pragma once

#include <cmath>
#include <cstdlib>
#include <exception>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>

namespace tut {

// Asserts a claim the chapter makes. Prints "[ok] msg" when it holds; otherwise prints
// "CHECK FAILED: msg" to stderr and exits with status 1.
inline void check(bool cond, const std::string& msg) {
  if (!cond) {
    std::cout.flush();
    std::cerr << "CHECK FAILED: " << msg << std::endl;
    std::exit(1);
  }
  std::cout << "  [ok] " << msg << "\n";
}

// `v` in scientific notation with `digits` significant digits ("3.1e-07").
inline std::string sci(double v, int digits = 2) {
  std::ostringstream os;
  os << std::scientific << std::setprecision(digits - 1) << v;
  return os.str();
}

// `v` in fixed notation with `decimals` digits after the point.
inline std::string fixed(double v, int decimals = 4) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(decimals) << v;
  return os.str();
}

// Prints a chapter section heading.
inline void section(const std::string& title) { std::cout << "\n== " << title << "\n"; }

// Runs the chapter body; an exception that escapes it is reported and fails the program.
template <class F>
int run(F&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "FAILED with exception: " << e.what() << std::endl;
    return 1;
  }
  std::cout << "\nAll checks passed.\n";
  return 0;
}

}  // namespace tut
