/*
 * proposals.js: the review queue (proposals.html).  Loads proposals.json
 * (the pending proposals, see gen/proposals_json.h) and shows each one in
 * an <article id="<proposal id>">: value, list, requester, reason,
 * evidence and the checks Helios ran on it.
 *
 * When the page is served by the Helios daemon (Helios.daemon: its
 * X-Helios-Test header), a reviewer pastes a token with the approve scope
 * and each proposal gets Approve, Reject (a reason is required) and
 * Convert (to another list) buttons that POST /proposals/{id}/ACTION.
 * The token lives in sessionStorage only: never in the page, the URL or
 * localStorage.  Elsewhere the page is read-only and says so.
 *
 * For tests: #status gets data-count once the queue is shown, and each
 * article's .answer gets data-status with the API's HTTP status.
 */
(function () {
  'use strict';
  var H = window.Helios;
  var KEY = 'helios-review-token';
  var status, queue, live = false;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function token() {
    try { return sessionStorage.getItem(KEY) || ''; } catch (e) { return ''; }
  }

  function field(dl, name, value) {
    dl.appendChild(el('dt', null, name));
    var dd = el('dd');
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = value;
    dl.appendChild(dd);
    return dd;
  }

  function safeLink(u) {
    try {
      var x = new URL(u);
      if (x.protocol === 'https:' || x.protocol === 'http:') {
        var a = el('a', null, u);
        a.href = x.href;
        a.rel = 'noopener noreferrer nofollow';
        return a;
      }
    } catch (e) { /* shown as text */ }
    return el('span', null, u);
  }

  function evidence(ev) {
    var box = el('div');
    ev = ev || {};
    box.appendChild(el('span', 'counts', 'tp ' + (ev.tp || 0) + ', fp ' +
      (ev.fp || 0) + ', naa ' + (ev.naa || 0)));
    var links = Array.isArray(ev.links) ? ev.links : [];
    if (links.length) {
      var ul = el('ul', 'plain');
      links.forEach(function (u) {
        var li = el('li');
        li.appendChild(safeLink(String(u)));
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    return box;
  }

  function mark(ok) { return ok === false ? 'fails' : ok === true ? 'passes' : 'n/a'; }

  function checks(ck) {
    var ul = el('ul', 'plain checks');
    ck = ck || {};
    function add(name, c, text) {
      var li = el('li');
      li.setAttribute('data-check', name);
      li.appendChild(el('strong', null, name + ': '));
      li.appendChild(document.createTextNode(mark(c && c.ok) + (text ? ' (' + text + ')' : '')));
      ul.appendChild(li);
      return li;
    }
    var gates = Array.isArray(ck.gates) ? ck.gates : [];
    add('gates', { ok: gates.length === 0 }, gates.length ? gates.join(', ') : 'none failed');
    if (ck.compile) add('compile', ck.compile, ck.compile.regex_only ?
      'regex-module only: ' + ck.compile.regex_only : '');
    if (ck.covered) {
      var by = Array.isArray(ck.covered.by) ? ck.covered.by : [];
      var li = add('covered-by', { ok: by.length === 0 }, by.length ? '' :
        'no entry covers it; ' + (ck.covered.checked || 0) + ' checked');
      if (by.length) {
        var sub = el('ul', 'plain');
        by.forEach(function (b) {
          var s = el('li');
          s.appendChild(el('code', 'value', b.value));
          s.appendChild(document.createTextNode(' #' + b.id + ' (' + b.how + ')'));
          sub.appendChild(s);
        });
        li.appendChild(sub);
      }
    }
    if (ck.broad) add('broad', ck.broad, ck.broad.matches_empty ? 'matches the empty string' :
      (ck.broad.probes_matched || 0) + ' of ' + (ck.broad.probes || 0) + ' probes match');
    if (ck.ham) {
      var h = add('ham matches', ck.ham, ck.ham.lines === 0 || ck.ham.lines === undefined ?
        'no ham corpus' : (ck.ham.matched || 0) + ' of ' + ck.ham.lines + ' lines');
      var ex = Array.isArray(ck.ham.examples) ? ck.ham.examples : [];
      if (ex.length) {
        var hu = el('ul', 'plain');
        ex.forEach(function (x) {
          var s = el('li', null, 'line ' + x.line + ': ');
          s.appendChild(el('code', null, typeof x.text === 'string' ? x.text : JSON.stringify(x)));
          hu.appendChild(s);
        });
        h.appendChild(hu);
      }
    }
    if (ck.backtracking) add('backtracking', ck.backtracking, ck.backtracking.work !== undefined &&
      ck.backtracking.work !== null ? 'work ' + ck.backtracking.work + ' of ' +
      ck.backtracking.limit : '');
    return ul;
  }

  function decide(p, action, body, answer, buttons) {
    var t = token();
    if (!t) {
      answer.textContent = 'Paste a token with the approve scope first.';
      answer.setAttribute('data-status', '0');
      document.getElementById('token').focus();
      return;
    }
    buttons.forEach(function (b) { b.disabled = true; });
    answer.textContent = 'Sending…';
    fetch('proposals/' + encodeURIComponent(String(p.id)) + '/' + action, {
      method: 'POST', cache: 'no-store', credentials: 'omit',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + t },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.text().then(function (txt) {
        var j = null;
        try { j = JSON.parse(txt); } catch (e) { j = null; }
        answer.setAttribute('data-status', String(r.status));
        answer.className = 'answer ' + (r.ok ? 'op-add' : 'op-del');
        answer.textContent = 'HTTP ' + r.status + ': ' +
          (j && j.message ? j.message : txt.slice(0, 300)) +
          (r.ok && j && j.version ? ' (published at version ' + j.version + ')' : '');
        if (!r.ok) buttons.forEach(function (b) { b.disabled = false; });
        H.announce(answer.textContent);
      });
    }, function (e) {
      answer.setAttribute('data-status', '0');
      answer.textContent = 'The daemon did not answer: ' + e.message;
      buttons.forEach(function (b) { b.disabled = false; });
    });
  }

  function controls(p) {
    var box = el('form', 'decide');
    var pid = 'p' + p.id;
    box.setAttribute('aria-label', 'Decide on proposal ' + p.id);
    var lab = el('label', null, 'Reason or comment');
    lab.htmlFor = pid + '-note';
    var note = el('input');
    note.id = pid + '-note';
    note.className = 'note';
    note.maxLength = 1000;
    var tlab = el('label', null, 'Convert to list');
    tlab.htmlFor = pid + '-target';
    var target = el('input');
    target.id = pid + '-target';
    target.className = 'target';
    target.setAttribute('list', 'lists');
    target.maxLength = 64;
    var approve = el('button', 'approve', 'Approve');
    var reject = el('button', 'reject', 'Reject');
    var convert = el('button', 'convert', 'Convert');
    [approve, reject, convert].forEach(function (b) { b.type = 'button'; });
    var answer = el('p', 'answer');
    answer.setAttribute('role', 'status');
    var buttons = [approve, reject, convert];
    approve.addEventListener('click', function () {
      decide(p, 'approve', note.value ? { comment: note.value } : {}, answer, buttons);
    });
    reject.addEventListener('click', function () {
      if (!note.value.trim()) {
        answer.setAttribute('data-status', '0');
        answer.textContent = 'A rejection needs a reason: write it in the reason field.';
        note.focus();
        return;
      }
      decide(p, 'reject', { reason: note.value }, answer, buttons);
    });
    convert.addEventListener('click', function () {
      if (!target.value.trim()) {
        answer.setAttribute('data-status', '0');
        answer.textContent = 'Converting needs a target list.';
        target.focus();
        return;
      }
      var b = { list: target.value.trim() };
      if (note.value) b.comment = note.value;
      decide(p, 'convert', b, answer, buttons);
    });
    box.addEventListener('submit', function (ev) { ev.preventDefault(); });
    [lab, note, tlab, target, approve, reject, convert].forEach(function (x) {
      box.appendChild(x);
      box.appendChild(document.createTextNode(' '));
    });
    box.appendChild(answer);
    return box;
  }

  function article(p) {
    var a = el('article', 'detail proposal');
    a.id = String(p.id);
    a.setAttribute('data-id', String(p.id));
    var h = el('h2');
    h.id = 'h-' + p.id;
    var self = el('a', null, '#' + p.id + ' ');
    self.href = '#' + p.id;
    h.appendChild(self);
    h.appendChild(el('code', 'value', p.value));
    a.setAttribute('aria-labelledby', h.id);
    a.appendChild(h);
    var dl = el('dl');
    var list = el('a', null, p.list);
    list.href = encodeURIComponent(String(p.list)) + '.html';
    field(dl, 'List', list);
    field(dl, 'Operation', p.op || 'add');
    field(dl, 'Requester', p.requester || '');
    field(dl, 'Reason', p.reason || '(none given)');
    if (p.created_at) field(dl, 'Proposed', H.fmtDate(p.created_at));
    field(dl, 'Evidence', evidence(p.evidence));
    field(dl, 'Checks', checks(p.checks));
    a.appendChild(dl);
    if (live) a.appendChild(controls(p));
    return a;
  }

  function show(doc) {
    var items = Array.isArray(doc.items) ? doc.items : [];
    queue.textContent = '';
    items.forEach(function (p) { queue.appendChild(article(p)); });
    status.setAttribute('data-count', String(items.length));
    status.textContent = items.length === 0 ? 'No proposal is waiting for review.' :
      items.length + (items.length === 1 ? ' proposal waits' : ' proposals wait') +
      ' for review (queue version ' + doc.version + ').';
    document.body.setAttribute('data-ready', 'true');
    if (location.hash.length > 1) {
      var t = document.getElementById(decodeURIComponent(location.hash.slice(1)));
      if (t) t.scrollIntoView();
    }
  }

  function tokenForm() {
    var form = document.getElementById('token-form');
    var input = document.getElementById('token');
    form.hidden = false;
    input.placeholder = token() ? 'a token is set for this tab' : '';
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var v = input.value.trim();
      input.value = '';
      if (!v) return;
      try { sessionStorage.setItem(KEY, v); } catch (e) { /* private mode */ }
      input.placeholder = 'a token is set for this tab';
      H.announce('Token kept for this tab.');
    });
    document.getElementById('token-forget').addEventListener('click', function () {
      try { sessionStorage.removeItem(KEY); } catch (e) { /* nothing kept */ }
      input.placeholder = '';
      H.announce('Token forgotten.');
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    status = document.getElementById('status');
    queue = document.getElementById('queue');
    var mode = document.getElementById('mode');
    if (!H.served) {
      status.textContent = 'This copy was opened as a file, and browsers do ' +
        'not let a page read other files: serve the directory over HTTP to see the queue.';
      return;
    }
    H.daemon.then(function (yes) {
      live = yes;
      if (mode) {
        mode.textContent = yes ? 'Served by the Helios daemon: paste a token with ' +
          'the approve scope to approve, reject or convert proposals.' :
          'This mirror is read-only: decisions are made on the Helios daemon, ' +
          'through its API or this page as it serves it.';
        mode.setAttribute('data-mode', yes ? 'live' : 'read-only');
      }
      if (yes) tokenForm();
      return H.loadJSON(queue.getAttribute('data-json'));
    }).then(show, function (e) {
      status.textContent = 'The queue could not be loaded: ' + e.message;
    });
  });
})();
