// Consent signing: a signature_pad canvas (vendored, static/vendor/signature_pad) whose drawing
// is put into the hidden `signature` field as a PNG data URL when the form is submitted.
(function () {
  "use strict";

  function setUp(form) {
    var canvas = form.querySelector("[data-signature-pad]");
    var input = form.querySelector("[data-signature-input]");
    var error = form.querySelector("[data-signature-error]");
    var clear = form.querySelector("[data-signature-clear]");
    if (!canvas || !input || typeof window.SignaturePad === "undefined") return;

    var pad = new window.SignaturePad(canvas, { penColor: "rgb(20, 24, 40)", minWidth: 0.8, maxWidth: 2.6 });

    // Size the drawing buffer to the displayed size × device pixel ratio so strokes are sharp and
    // land under the finger. Resizing clears a canvas, so keep what was drawn.
    function resize() {
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var data = pad.toData();
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      if (data.length) pad.fromData(data);
    }
    window.addEventListener("resize", resize);
    resize();

    pad.addEventListener("endStroke", function () {
      if (error) error.hidden = true;
    });
    if (clear) {
      clear.addEventListener("click", function () {
        pad.clear();
        input.value = "";
      });
    }
    form.addEventListener("submit", function (event) {
      if (pad.isEmpty()) {
        event.preventDefault();
        if (error) error.hidden = false;
        canvas.focus();
        return;
      }
      input.value = pad.toDataURL("image/png");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-signature-form]").forEach(setUp);
  });
})();
