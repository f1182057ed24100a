/* The review screen: place the regions and suggestions on the page images, and draw a new
   region with the mouse. Coordinates are points, origin top-left of the displayed page
   (the page's size is on its .page-canvas as data-width / data-height). A static file with
   no inline code, so a strict Content-Security-Policy holds. */
(function () {
  "use strict";

  function clamp(value, low, high) {
    return Math.min(Math.max(value, low), high);
  }

  function place(canvas, element, rect) {
    var width = parseFloat(canvas.dataset.width);
    var height = parseFloat(canvas.dataset.height);
    element.style.left = (rect[0] / width) * 100 + "%";
    element.style.top = (rect[1] / height) * 100 + "%";
    element.style.width = ((rect[2] - rect[0]) / width) * 100 + "%";
    element.style.height = ((rect[3] - rect[1]) / height) * 100 + "%";
  }

  function setUp(canvas) {
    canvas.querySelectorAll("[data-rect]").forEach(function (element) {
      place(canvas, element, element.dataset.rect.split(",").map(parseFloat));
    });
    var form = document.getElementById("region-form-" + canvas.dataset.page);
    if (!form) {
      return; // read-only: the user may not change the review
    }
    var box = canvas.querySelector(".drawing");
    var width = parseFloat(canvas.dataset.width);
    var height = parseFloat(canvas.dataset.height);
    var start = null;

    function point(event) {
      var bounds = canvas.getBoundingClientRect();
      return [
        clamp((event.clientX - bounds.left) / bounds.width, 0, 1) * width,
        clamp((event.clientY - bounds.top) / bounds.height, 0, 1) * height,
      ];
    }

    function rectTo(end) {
      return [
        Math.min(start[0], end[0]),
        Math.min(start[1], end[1]),
        Math.max(start[0], end[0]),
        Math.max(start[1], end[1]),
      ];
    }

    canvas.addEventListener("mousedown", function (event) {
      if (event.button !== 0) {
        return;
      }
      event.preventDefault();
      start = point(event);
      box.hidden = false;
      place(canvas, box, rectTo(start));
    });
    window.addEventListener("mousemove", function (event) {
      if (start) {
        place(canvas, box, rectTo(point(event)));
      }
    });
    window.addEventListener("mouseup", function (event) {
      if (!start) {
        return;
      }
      var rect = rectTo(point(event));
      start = null;
      if (rect[2] - rect[0] < 2 || rect[3] - rect[1] < 2) {
        box.hidden = true;
        return;
      }
      ["x0", "y0", "x1", "y1"].forEach(function (name, i) {
        form.elements[name].value = rect[i].toFixed(2);
      });
      form.hidden = false;
      form.elements.basis.focus();
    });
    form.querySelector(".cancel").addEventListener("click", function () {
      form.hidden = true;
      box.hidden = true;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".page-canvas").forEach(setUp);
  });
})();
