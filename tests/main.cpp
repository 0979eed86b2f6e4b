// The test runner: doctest's own main. Run one chapter's tests with
//   build/tests/minirec_tests -ts=ch68      (test suites are named per module / chapter)
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
