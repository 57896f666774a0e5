// The dashboard's only script: the CSRF header on htmx requests, live regions fed by
// server-sent events, and copying the till enrolment command. Everything else is htmx or
// plain HTML, and every page works without this file. No inline script: the CSP forbids it.
(function () {
  "use strict";

  function meta(name) {
    var element = document.querySelector('meta[name="' + name + '"]');
    return element ? element.getAttribute("content") : null;
  }

  // htmx requests carry the session's CSRF token as a header; plain forms carry it as the
  // hidden `csrf` field.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = meta("csrf-token");
    if (token) { event.detail.headers["X-CSRF-Token"] = token; }
  });

  // Live regions: elements with data-live-url and data-live-topics. One EventSource per
  // page; an event named after a topic refreshes the regions that list it, at most once per
  // DEBOUNCE_MS. The contract is in the nexus-web crate docs.
  var DEBOUNCE_MS = 300;
  var MAX_RETRY_MS = 60000;
  var source = null;
  var retryMs = 1000;
  var retryTimer = null;
  var listening = {};
  var pending = new WeakMap();

  function regions() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-live-url][data-live-topics]"));
  }

  function topicsOf(region) {
    return (region.getAttribute("data-live-topics") || "").split(/\s+/).filter(Boolean);
  }

  function refresh(region) {
    if (pending.get(region)) { return; }
    pending.set(region, setTimeout(function () {
      pending.delete(region);
      if (!document.body.contains(region) || !window.htmx) { return; }
      window.htmx.ajax("GET", region.getAttribute("data-live-url"), { target: region, swap: "innerHTML" });
    }, DEBOUNCE_MS));
  }

  function onTopic(event) {
    regions().forEach(function (region) {
      if (topicsOf(region).indexOf(event.type) !== -1) { refresh(region); }
    });
  }

  // Topics can appear after an htmx swap brings in a new region: listen for those too.
  function listenToTopics() {
    if (!source) { return; }
    regions().forEach(function (region) {
      topicsOf(region).forEach(function (topic) {
        if (!listening[topic]) {
          listening[topic] = true;
          source.addEventListener(topic, onTopic);
        }
      });
    });
  }

  function connect() {
    var url = meta("live-events");
    if (!url || !window.EventSource || source || regions().length === 0) { return; }
    var reconnected = retryMs > 1000;
    source = new EventSource(url);
    listening = {};
    listenToTopics();
    source.addEventListener("open", function () {
      // Events sent while the stream was down are lost: bring every region up to date once.
      if (reconnected) { regions().forEach(refresh); }
      retryMs = 1000;
    });
    source.addEventListener("error", function () {
      // The browser retries some failures by itself and gives up on others; reconnect here
      // with a growing delay either way, so a server restart or a dropped mobile connection
      // is survived without hammering the server.
      source.close();
      source = null;
      if (retryTimer) { return; }
      var delay = retryMs;
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      retryTimer = setTimeout(function () {
        retryTimer = null;
        connect();
      }, delay + Math.floor(Math.random() * 500));
    });
  }

  document.addEventListener("DOMContentLoaded", connect);
  document.addEventListener("htmx:afterSettle", function () {
    if (source) { listenToTopics(); } else if (!retryTimer) { connect(); }
  });

  // Copy buttons: <button data-copy="#selector">; the result is announced in the next
  // role="status" element.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) { return; }
    var target = document.querySelector(button.getAttribute("data-copy"));
    if (!target) { return; }
    var status = button.parentNode.querySelector('[role="status"]');
    var say = function (text) { if (status) { status.textContent = text; } };
    var text = target.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { say("Copied."); }, function () { select(target); say("Selected: press Ctrl+C to copy."); });
    } else {
      select(target);
      say("Selected: press Ctrl+C to copy.");
    }
  });

  function select(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
})();
