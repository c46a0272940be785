// nerve dashboard: keeps #live current from the page's Server-Sent Event stream. The server
// renders every fragment (html/template); this script only swaps it in.
(function () {
  'use strict';
  var live = document.getElementById('live');
  var conn = document.getElementById('conn');
  if (!live || !live.dataset.sse || !window.EventSource) {
    return;
  }
  function state(text, cls) {
    if (conn) {
      conn.textContent = text;
      conn.className = 'conn ' + cls;
    }
  }
  var es = new EventSource(live.dataset.sse);
  es.addEventListener('open', function () { state('live', 'ok'); });
  es.addEventListener('html', function (e) {
    live.innerHTML = e.data;
    live.dataset.version = e.lastEventId;
    state('live', 'ok');
  });
  es.addEventListener('error', function () {
    state(es.readyState === EventSource.CLOSED ? 'disconnected: reload the page' : 'reconnecting…', 'bad');
  });
})();
