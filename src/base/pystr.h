/*
 * pystr: Python's str.lower(), the way SmokeDetector compares the
 * patterns of its plain lists (BasicListParser.exists() in blacklists.py
 * lowers both sides).  Helios must refuse as a duplicate exactly what
 * SmokeDetector would have found there, so "CAFÉ" repeats "café", "İ"
 * repeats "i̇" (U+0130 lowers to "i" and U+0307), and a capital sigma
 * lowers to "ς" where it ends a word and to "σ" elsewhere.
 *
 * The mapping is Unicode's full lowercase mapping without language rules,
 * which is what CPython implements: each code point's simple mapping
 * (libunistring's uc_tolower), U+0130's two code points from
 * SpecialCasing.txt, and the Final_Sigma condition as CPython tests it
 * (handle_capital_sigma: case-ignorable code points skipped backwards,
 * then a cased one; and none after, past case-ignorable ones).  Python
 * 3.11 and Debian 12's libunistring 1.0 both carry Unicode 14.0;
 * tests/tools/sd_parse_diff.py compares the two over every code point.
 *
 * Bytes that are not UTF-8 are copied as they are.
 */
#ifndef HL_PYSTR_H
#define HL_PYSTR_H

/* Python's s.lower(), as a malloc'd string; NULL when out of memory. */
char	*hl_pystr_lower(const char *s);

#endif
