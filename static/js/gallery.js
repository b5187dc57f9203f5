/*
 * The product page's photos (templates/products/product_detail.html).
 *
 * Without this script the page works: thumbnails are links to each photo's anchor, and each
 * photo links to its large size. With it:
 * - a thumbnail scrolls the strip of photos sideways to its photo, without scrolling the page
 *   or adding a step to the Back button, and marks itself aria-current;
 * - a photo opens its large size in a modal <dialog> on the page (Escape, « Fermer » or a
 *   click beside the photo closes it; the focus goes back to the photo).
 */
(function () {
  "use strict";

  function setUpThumbnails(strip, thumbs) {
    var links = thumbs.querySelectorAll("a[href^='#']");
    var slides = strip.querySelectorAll(".gallery__slide");

    function current() {
      return strip.clientWidth ? Math.round(strip.scrollLeft / strip.clientWidth) : 0;
    }

    function mark(index) {
      for (var i = 0; i < links.length; i++) {
        if (i === index) {
          links[i].setAttribute("aria-current", "true");
        } else {
          links[i].removeAttribute("aria-current");
        }
      }
    }

    Array.prototype.forEach.call(links, function (link, index) {
      link.addEventListener("click", function (event) {
        if (!slides[index]) {
          return;
        }
        event.preventDefault(); // no jump of the page, no new history entry
        strip.scrollTo({ left: index * strip.clientWidth, top: 0 });
        mark(index);
      });
    });

    var pending = null;
    strip.addEventListener("scroll", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(function () {
        mark(current());
      }, 100);
    });
    mark(current());
  }

  function setUpZoom(strip, dialog) {
    var frame = dialog.querySelector("[data-zoom-frame]");
    var opener = null;
    if (!frame || typeof dialog.showModal !== "function") {
      return; // the links still open the large photos
    }

    strip.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-zoom]");
      if (!link) {
        return;
      }
      event.preventDefault();
      var photo = link.querySelector("img");
      var large = document.createElement("img");
      large.src = link.getAttribute("href");
      large.alt = photo ? photo.alt : "";
      frame.replaceChildren(large);
      opener = link;
      dialog.showModal();
    });

    // A click on the backdrop (the dialog itself, outside its photo and button) closes it.
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) {
        dialog.close();
      }
    });
    dialog.addEventListener("close", function () {
      frame.replaceChildren();
      if (opener) {
        opener.focus();
      }
    });
  }

  function setUp() {
    var strip = document.querySelector("[data-gallery]");
    if (!strip) {
      return;
    }
    var thumbs = document.querySelector(".gallery__thumbs");
    if (thumbs) {
      setUpThumbnails(strip, thumbs);
    }
    var dialog = document.querySelector("[data-zoom-dialog]");
    if (dialog) {
      setUpZoom(strip, dialog);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
