/*
 * Live stock (SPEC §6): every element with data-product-id gets its
 * data-stock-status refreshed from GET /api/products?ids=… every
 * STOCK_POLL_SECONDS; CSS shows the matching form or label. In the cart, the
 * "Commander" button is disabled while a line is sold or reserved by someone else.
 * A change is announced in the page's polite live region ([data-stock-announcer]),
 * with the piece's name: "Vendu : « Nom »."
 *
 * Plain script, loaded with `defer`, no inline code (CSP script-src 'self').
 * Pauses while the tab is hidden, polls at once when it comes back, backs off
 * on network errors, never reloads the page. Without it, the server-rendered
 * state is already right.
 */
(function () {
  "use strict";

  var MAX_IDS_PER_REQUEST = 200; // the API's cap
  var MAX_BACKOFF_MS = 5 * 60 * 1000;
  var REQUEST_TIMEOUT_MS = 15 * 1000;
  var STATUSES = ["available", "reserved", "sold"];

  var body = document.body;
  var apiUrl = body && body.dataset.stockApiUrl;
  if (!apiUrl || typeof window.fetch !== "function") {
    return;
  }
  var seconds = parseFloat(body.dataset.stockPollSeconds);
  var intervalMs = (isFinite(seconds) && seconds > 0 ? seconds : 30) * 1000;

  var etags = {}; // query string -> last ETag received for it
  var timer = null;
  var inFlight = false;
  var failures = 0;

  function productIds() {
    var seen = {};
    var ids = [];
    var nodes = document.querySelectorAll("[data-product-id]");
    for (var i = 0; i < nodes.length; i++) {
      var id = nodes[i].getAttribute("data-product-id");
      if (/^[1-9][0-9]*$/.test(id) && !seen[id]) {
        seen[id] = true;
        ids.push(id);
      }
    }
    return ids;
  }

  function chunks(ids) {
    var result = [];
    for (var i = 0; i < ids.length; i += MAX_IDS_PER_REQUEST) {
      result.push(ids.slice(i, i + MAX_IDS_PER_REQUEST));
    }
    return result;
  }

  // What the live region says when a piece changes (its name is data-product-name). Nothing
  // agrees with the name: the shop cannot know its gender.
  var ANNOUNCEMENTS = {
    sold: "Vendu : {name}.",
    reserved: "Réservé : {name}, un paiement est en cours.",
    available: "De nouveau disponible : {name}.",
  };

  // « name », guillemets inside it nested as “ ” (shop/words.py does the same).
  function guillemets(name) {
    return "« " + name.replace(/«\s*([^»]*?)\s*»/g, "“$1”") + " »";
  }

  // Returns the sentences announcing the pieces whose status changed, one per piece.
  function applyStatuses(products) {
    var sentences = [];
    for (var i = 0; i < products.length; i++) {
      var product = products[i];
      if (STATUSES.indexOf(product.status) === -1) {
        continue;
      }
      var nodes = document.querySelectorAll('[data-product-id="' + String(product.id) + '"]');
      var name = null;
      for (var j = 0; j < nodes.length; j++) {
        if (nodes[j].getAttribute("data-stock-status") !== product.status) {
          nodes[j].setAttribute("data-stock-status", product.status);
          name = name || nodes[j].getAttribute("data-product-name");
        }
      }
      if (name) {
        sentences.push(ANNOUNCEMENTS[product.status].replace("{name}", guillemets(name)));
      }
    }
    return sentences;
  }

  // The page's polite live region: only changes are announced, never a poll as such.
  function announce(sentences) {
    var region = document.querySelector("[data-stock-announcer]");
    if (!region || sentences.length === 0) {
      return;
    }
    region.textContent = sentences.join(" ");
  }

  // The cart: "Commander" is off while a line cannot be ordered.
  function updateCheckout() {
    var button = document.querySelector("[data-checkout-button]");
    if (!button) {
      return;
    }
    var blocked = false;
    var lines = document.querySelectorAll(".cart-line[data-product-id]");
    for (var i = 0; i < lines.length; i++) {
      var status = lines[i].getAttribute("data-stock-status");
      if (
        status === "sold" ||
        (status === "reserved" && !lines[i].hasAttribute("data-held-by-me"))
      ) {
        blocked = true;
        break;
      }
    }
    button.disabled = blocked;
    var explanation = document.querySelector("[data-checkout-blocked]");
    if (explanation) {
      explanation.hidden = !blocked;
    }
  }

  // One request; resolves to true on success (200 or 304), false otherwise.
  function fetchChunk(ids) {
    var query = "ids=" + ids.join(",");
    var url = apiUrl + (apiUrl.indexOf("?") === -1 ? "?" : "&") + query;
    var headers = { Accept: "application/json" };
    if (etags[query]) {
      headers["If-None-Match"] = etags[query];
    }
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var abortTimer = controller
      ? setTimeout(function () {
          controller.abort();
        }, REQUEST_TIMEOUT_MS)
      : null;
    return fetch(url, {
      method: "GET",
      headers: headers,
      cache: "no-store",
      // No cookie: the answer is the same for everyone, and a shared cache (CDN) in
      // front of the shop serves it to every tab without a per-visitor key.
      credentials: "omit",
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        if (response.status === 304) {
          return true;
        }
        if (!response.ok) {
          return false;
        }
        return response.json().then(function (data) {
          if (!data || !Array.isArray(data.products)) {
            return false;
          }
          var etag = response.headers.get("ETag");
          if (etag) {
            etags[query] = etag;
          }
          announce(applyStatuses(data.products));
          return true;
        });
      })
      .catch(function () {
        return false; // offline, timed out, server down: back off and try again later
      })
      .then(function (ok) {
        if (abortTimer !== null) {
          clearTimeout(abortTimer);
        }
        return ok;
      });
  }

  function nextDelay() {
    if (failures === 0) {
      return intervalMs;
    }
    // Double on each failure, up to a few minutes, with some jitter so that
    // many pages do not all come back at the same instant.
    var delay = Math.min(intervalMs * Math.pow(2, failures), Math.max(MAX_BACKOFF_MS, intervalMs));
    return delay * (0.8 + Math.random() * 0.4);
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = null;
    if (!document.hidden) {
      timer = setTimeout(poll, delay);
    }
  }

  function poll() {
    clearTimeout(timer);
    timer = null;
    if (inFlight || document.hidden) {
      return;
    }
    var ids = productIds();
    if (ids.length === 0) {
      return;
    }
    inFlight = true;
    Promise.all(chunks(ids).map(fetchChunk)).then(function (results) {
      inFlight = false;
      updateCheckout();
      failures = results.indexOf(false) === -1 ? 0 : Math.min(failures + 1, 16);
      schedule(nextDelay());
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      clearTimeout(timer);
      timer = null;
    } else {
      poll();
    }
  });

  // A page restored from the back/forward cache shows old stock: refresh it now
  // (visibilitychange often says so too; a second call is ignored while one runs).
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      poll();
    }
  });

  // So may a page that Back or Forward took from the HTTP cache.
  function fromHistory() {
    var entries = performance.getEntriesByType ? performance.getEntriesByType("navigation") : [];
    return entries.length > 0 && entries[0].type === "back_forward";
  }

  updateCheckout();
  if (fromHistory()) {
    poll();
  } else {
    schedule(intervalMs);
  }
})();
