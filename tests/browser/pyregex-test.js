#!/usr/bin/env node
/*
 * site/assets/pyregex.js, the Python-regex-to-JavaScript translation of
 * "Is this caught?", on patterns of SmokeDetector's kind: what it
 * translates matches what Python's regex module matches, and what it
 * refuses it names.  Prints "ok - ..." / "not ok - ..." lines.
 */
'use strict';
const p = require('../../site/assets/pyregex.js');
let failed = 0;
function check(ok, s, why) {
  if (ok) console.log(`ok - ${s}`);
  else { failed++; console.log(`not ok - ${s}${why ? ': ' + why : ''}`); }
}
/* [pattern, text, matches?] as Python's regex module answers. */
const cases = [
  ['(?i)FOO\\Z', 'a foo', true],
  ['foo\\Z', 'foo\nbar', false],
  ['\\Afoo', 'foo bar', true],
  ['\\Afoo', 'a foo', false],
  ['a++b', 'aaab', true],
  ['a++a', 'aaaa', false],
  ['(?>ab|a)c', 'abc', true],
  ['(?>a|ab)c', 'abc', false],
  ['[a-z]{2,}+x', 'abx', false],
  ['x(?#a comment)y', 'xy', true],
  ['(?P<w>ab)(?P=w)', 'abab', true],
  ['(?P<w>ab)(?P=w)', 'abac', false],
  ['(?s)a.b', 'a\nb', true],
  ['a.b', 'a\nb', false],
  ['brain\\W?power(?<=^(?s).{0,211})', 'my brain power', true],
  ['brain\\W?power(?<=^(?s).{0,211})', 'x'.repeat(300) + 'brainpower', false],
  ['writing(?<!(?:code|script)\\Wwriting) services?', 'essay writing service', true],
  ['writing(?<!(?:code|script)\\Wwriting) services?', 'code writing services', false],
  ['(?x) cheap \\s pills # comment', 'cheap pills', true],
  ['big-1-(?:cheap|best)\\W*+pills\\.example\\.com', 'big-1-best  pills.example.com', true],
];
for (const [pat, text, want] of cases) {
  const c = p.compile(pat);
  check(c.re && c.re.test(text) === want,
    `pyregex: ${JSON.stringify(pat)} ${want ? 'matches' : 'does not match'} ${JSON.stringify(text.slice(0, 30))}`,
    c.error || (c.re && String(c.re)));
}
for (const [pat, why] of [['a(?|b|c)', 'branch reset'], ['(a)(?(1)b|c)', 'conditional'],
  ['\\mfoo\\M', 'word start'], ['(?V1)a', 'regex-module flags'], ['a{e<=1}', 'fuzzy'],
  ['(a)\\1++', 'possessive quantifier'], ['[[:alpha:]]+', 'POSIX'], ['a(?-i)b', 'turns flags off']]) {
  const c = p.compile(pat);
  check(!c.re && c.error && c.error.includes(why), `pyregex: ${JSON.stringify(pat)} is refused, naming ${why}`, c.error);
}
process.exit(failed ? 1 : 0);
