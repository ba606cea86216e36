"""tap: runs unittest tests and prints one TAP line per test, as the rest
of the suite does ("ok N - sentence" / "not ok N - sentence"), the
sentence being the first line of the test's docstring.

    python3 -m unittest is not used: tap.main(module) runs the module's
    tests in name order.  TAP_START (environment) numbers the first test.
"""
import os
import sys
import unittest


class _Result(unittest.TestResult):
    def __init__(self, start, tag):
        unittest.TestResult.__init__(self)
        self.n = start - 1
        self.tag = tag
        self.bad = 0

    def _name(self, test):
        doc = test.shortDescription() or test.id()
        return "%s%s" % (self.tag, doc)

    def _line(self, ok, test, detail=None, note=""):
        self.n += 1
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.n,
                                self._name(test), note))
        if not ok:
            self.bad += 1
            for line in (detail or "").splitlines()[-20:]:
                print("#   " + line)
        sys.stdout.flush()

    def addSuccess(self, test):
        self._line(True, test)

    def addFailure(self, test, err):
        self._line(False, test, self._exc_info_to_string(err, test))

    def addError(self, test, err):
        self._line(False, test, self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        self._line(True, test, note=" # SKIP " + reason)


def main(module, tag=""):
    start = int(os.environ.get("TAP_START", "1"))
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    result = _Result(start, tag)
    suite.run(result)
    return 1 if result.bad else 0
