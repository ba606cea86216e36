/*
 * pyregex.js: SmokeDetector's patterns are written for Python's `regex`
 * module; this translates one into a JavaScript RegExp where that can be
 * done without changing what it matches, and otherwise says why not.
 *
 *   translate("(?i)foo\\Z")  -> { source: "foo(?![\\s\\S])", flags: "i" }
 *   translate("a(?|b|c)")    -> { error: "branch reset groups (?|...)" }
 *
 * Translated:
 *   (?imsx) at the start      RegExp flags (x: spaces and # comments go)
 *   (?ims) further on         RegExp flags too: the regex module applies
 *                             such a group to the whole pattern
 *   (?#...)                   removed
 *   \Z  \A                    (?![\s\S])  (?<![\s\S])
 *   (?P<name>...)  (?P=name)  (?<name>...)  \k<name>
 *   (?>...)  X*+ X++ X?+ X{n,m}+   atomic: (?=(?<hN>...))\k<hN>, only when
 *                             the pattern has no numbered backreference
 *                             (the new groups would shift their numbers)
 * Refused (the page lists such patterns as not checked):
 *   (?|...) (?R) (?1) (?&name) (?(cond)...) \G \K fuzzy {e<=1}
 *   (?w) (?V1) (?f) \m \M \N{...} [[:posix:]] (?-i) turning a flag off
 *   and anything JavaScript then fails to compile.
 *
 * Python's \w, \d and \b are Unicode-aware on str patterns; JavaScript's
 * are ASCII even with the u flag, so a pattern relying on them for
 * non-Latin text may differ: that is noted, not refused.
 */
(function (root) {
  'use strict';

  var ASCII = '\\w, \\b and \\d are ASCII-only here';
  var REFUSE = [
    [/\(\?\|/, 'branch reset groups (?|...)'],
    [/\(\?(R|[+-]?\d+)\)/, 'recursion (?R) / (?1)'],
    [/\(\?&\w+\)/, 'recursion by name (?&name)'],
    [/\(\?P>\w+\)/, 'recursion by name (?P>name)'],
    [/\(\?\(/, 'conditional groups (?(...)...)'],
    [/\\G/, '\\G (search anchor)'],
    [/\\K/, '\\K (keep out)'],
    [/\{\s*[eisd]\s*(<=?|=)\s*\d+/, 'fuzzy matching {e<=n}'],
    [/\(\?[a-zA-Z]*[wVfLb][a-zA-Z0-9]*[:)]/, 'regex-module flags (?w) (?V1) (?f)'],
    [/\\[mM](?![a-zA-Z])/, 'word start/end \\m \\M'],
    [/\\N\{/, 'named characters \\N{...}'],
    [/\[\[:\^?[a-z]+:\]/, 'POSIX classes [[:alpha:]]'],
    [/\\p\{In[A-Z]/, 'block properties \\p{InBlock}']
  ];

  /* Skips a character class starting at s[i] === '['; returns the index
     after its ']'. */
  function classEnd(s, i) {
    var j = i + 1;
    if (s[j] === '^') j++;
    if (s[j] === ']') j++;
    for (; j < s.length; j++) {
      if (s[j] === '\\') j++;
      else if (s[j] === '[' && s[j + 1] === ':') {
        var k = s.indexOf(':]', j + 2);
        if (k !== -1) j = k + 1;
      } else if (s[j] === ']') return j + 1;
    }
    return -1;
  }

  /* The index after the group that opens at s[i] === '('. */
  function groupEnd(s, i) {
    var depth = 0;
    for (var j = i; j < s.length; j++) {
      var c = s[j];
      if (c === '\\') j++;
      else if (c === '[') {
        var e = classEnd(s, j);
        if (e === -1) return -1;
        j = e - 1;
      } else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) return j + 1;
    }
    return -1;
  }

  function stripVerbose(s) {
    var out = '', i = 0;
    while (i < s.length) {
      var c = s[i];
      if (c === '\\') { out += s.substr(i, 2); i += 2; continue; }
      if (c === '[') {
        var e = classEnd(s, i);
        if (e === -1) { out += s.slice(i); break; }
        out += s.slice(i, e); i = e; continue;
      }
      if (/\s/.test(c)) { i++; continue; }
      if (c === '#') {
        var nl = s.indexOf('\n', i);
        i = nl === -1 ? s.length : nl + 1;
        continue;
      }
      out += c; i++;
    }
    return out;
  }

  function translate(p, st) {
    var flags = '', notes = [], m, i;
    var top = !st;
    st = st || { n: 0, flags: '' };
    for (i = 0; i < REFUSE.length; i++)
      if (REFUSE[i][0].test(p)) return { error: 'uses ' + REFUSE[i][1] };
    /* Leading global flags, possibly several groups: (?i)(?s) */
    while ((m = /^\(\?([aiLmsux]+)\)/.exec(p))) {
      if (/[La]/.test(m[1])) return { error: 'uses the (?a) or (?L) flag' };
      flags += m[1].replace(/[ux]/g, '');
      if (m[1].indexOf('x') !== -1) p = stripVerbose(p.slice(m[0].length));
      else p = p.slice(m[0].length);
    }
    var hasNumRef = /\\[1-9]/.test(p.replace(/\[(?:\\.|[^\]\\])*\]/g, ''));
    var out = '';
    var last = -1;   /* where the last atom started in out */
    for (i = 0; i < p.length;) {
      var c = p[i];
      if (c === '\\') {
        var nx = p[i + 1];
        last = out.length;
        if (nx === 'Z' || nx === 'z') out += '(?![\\s\\S])';
        else if (nx === 'A') out += '(?<![\\s\\S])';
        else out += p.substr(i, 2);
        i += 2;
        continue;
      }
      if (c === '[') {
        var ce = classEnd(p, i);
        if (ce === -1) return { error: 'an unclosed character class' };
        last = out.length;
        out += p.slice(i, ce);
        i = ce;
        continue;
      }
      if (p.substr(i, 4) === '(?P=') {
        var pe = p.indexOf(')', i);
        if (pe === -1) return { error: 'an unclosed (?P=name)' };
        last = out.length;
        out += '\\k<' + p.slice(i + 4, pe) + '>';
        i = pe + 1;
        continue;
      }
      if (c === '(') {
        if (p.substr(i, 3) === '(?#') {
          var cl = p.indexOf(')', i);
          if (cl === -1) return { error: 'an unclosed comment' };
          i = cl + 1;
          continue;
        }
        /* The regex module (VERSION0) applies a global flag group
           anywhere to the whole pattern, as a RegExp flag does. */
        var gf = /^\(\?([aiLmsux]+)\)/.exec(p.slice(i));
        if (gf) {
          if (/[Lax]/.test(gf[1]))
            return { error: 'uses the (?a), (?L) or (?x) flag inside the pattern' };
          st.flags += gf[1].replace(/u/g, '');
          i += gf[0].length;
          continue;
        }
        if (/^\(\?[aiLmsux]*-[imsx]+\)/.test(p.slice(i)))
          return { error: 'turns flags off inside the pattern' };
        var ge = groupEnd(p, i);
        if (ge === -1) return { error: 'an unbalanced parenthesis' };
        var inner = p.slice(i, ge);
        var t = translate(inner.replace(/^\((\?(?:P?<[A-Za-z_]\w*>|[:=!>]|<[=!]|[imsx-]+:))?/, '').slice(0, -1), st);
        if (t.error) return t;
        var head = (/^\((\?(?:P?<[A-Za-z_]\w*>|[:=!>]|<[=!]|[imsx-]+:))?/.exec(inner) || ['('])[0];
        head = head.replace(/^\(\?P</, '(?<');
        last = out.length;
        if (head === '(?>') {
          if (hasNumRef) return { error: 'an atomic group in a pattern with numbered backreferences' };
          var g = 'hl' + (++st.n);
          out += '(?=(?<' + g + '>' + t.source + '))\\k<' + g + '>';
        } else {
          out += head + t.source + ')';
        }
        notes = notes.concat(t.notes || []);
        i = ge;
        continue;
      }
      /* Quantifiers, and a possessive + after one. */
      var q = /^(?:[*+?]|\{\d*(?:,\d*)?\})/.exec(p.slice(i));
      if (q && last !== -1 && (q[0][0] !== '{' || /^\{\d/.test(q[0]) || /^\{,\d/.test(q[0]))) {
        var after = p[i + q[0].length];
        if (after === '+') {
          if (hasNumRef) return { error: 'a possessive quantifier in a pattern with numbered backreferences' };
          var g2 = 'hl' + (++st.n);
          var atom = out.slice(last);
          out = out.slice(0, last) + '(?=(?<' + g2 + '>' + atom + q[0] + '))\\k<' + g2 + '>';
          i += q[0].length + 1;
          last = -1;
          continue;
        }
        out += q[0];
        i += q[0].length;
        if (p[i] === '?') { out += '?'; i++; }
        last = -1;
        continue;
      }
      last = out.length;
      out += c;
      i++;
    }
    if (/\\[wWbBdD]/.test(out) && notes.indexOf(ASCII) === -1) notes.push(ASCII);
    if (top) flags += st.flags;
    return { source: out, flags: flags, notes: notes };
  }

  /* A RegExp for pattern p (case-insensitive, as SmokeDetector matches),
     or { error }. */
  function compile(p) {
    var t = translate(p);
    if (t.error) return t;
    var fl = Array.from(new Set(('i' + t.flags).split(''))).join('');
    try {
      return { re: new RegExp(t.source, fl + 'u'), notes: t.notes };
    } catch (e) {
      try {
        return { re: new RegExp(t.source, fl), notes: t.notes };
      } catch (e2) {
        return { error: 'JavaScript cannot compile it: ' + e2.message };
      }
    }
  }

  var api = { translate: translate, compile: compile };
  if (typeof module === 'object' && module.exports) module.exports = api;
  else root.HeliosPyRegex = api;
})(typeof window !== 'undefined' ? window : this);
