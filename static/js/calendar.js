// Staff day view: draw each column as a time grid, move an appointment by dragging it to another
// time or column, and double-click a free time to book there. Without this script the page is a
// plain list per column and every card keeps its "Reschedule" form link, which stays the way to
// move a visit from the keyboard or a touch screen.
//
// The server decides everything: a drop posts the new date, time and provider/room to
// /staff/appointments/<id>/move/, which runs the reschedule form's rules and answers
// {"ok": true} (the page reloads and shows what moved) or {"error": "..."} (shown here, and the
// card goes back to where it was).
(function () {
  "use strict";

  var PX_PER_MINUTE = 1.6;
  var SNAP_MINUTES = 5;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function wallClock(minute) { return pad(Math.floor(minute / 60)) + ":" + pad(minute % 60); }

  function label(minute) {
    var h = Math.floor(minute / 60) % 24, m = minute % 60;
    return ((h + 11) % 12 + 1) + ":" + pad(m) + (h < 12 ? " AM" : " PM");
  }

  function setUp(grid) {
    var starts = Number(grid.dataset.gridStarts), ends = Number(grid.dataset.gridEnds);
    var status = document.querySelector("[data-move-status]");
    var hint = document.querySelector(".grid-hint");
    var dragged = null;

    grid.classList.add("timed");
    if (hint) { hint.hidden = false; }

    function minuteAt(body, clientY, grabOffset) {
      var y = clientY - body.getBoundingClientRect().top - (grabOffset || 0);
      var minute = starts + Math.round(y / PX_PER_MINUTE / SNAP_MINUTES) * SNAP_MINUTES;
      return Math.max(starts, Math.min(ends - SNAP_MINUTES, minute));
    }

    function say(text) {
      if (!status) { return; }
      status.textContent = text;
      status.hidden = !text;
    }

    grid.querySelectorAll(".cal-body").forEach(function (body) {
      var column = body.closest(".cal-column");
      body.style.height = ((ends - starts) * PX_PER_MINUTE) + "px";
      body.style.backgroundSize = "100% " + (60 * PX_PER_MINUTE) + "px";
      for (var minute = starts; minute < ends; minute += 60) {
        var tick = document.createElement("span");
        tick.className = "hour-label";
        tick.textContent = label(minute);
        tick.style.top = ((minute - starts) * PX_PER_MINUTE) + "px";
        body.appendChild(tick);
      }
      var empty = body.querySelector(".nothing-booked");
      if (empty) { empty.remove(); }
      body.querySelectorAll(".appt-card[data-start]").forEach(function (card) {
        card.style.top = ((Number(card.dataset.start) - starts) * PX_PER_MINUTE) + "px";
        card.style.height = Math.max(Number(card.dataset.minutes) * PX_PER_MINUTE, 22) + "px";
        if (card.dataset.moveUrl) {
          card.draggable = true;
          card.title = "Drag to move " + card.dataset.label;
        }
      });
      if (!column.dataset.drop) { return; }

      var marker = document.createElement("div");
      marker.className = "drop-marker";
      marker.hidden = true;
      body.appendChild(marker);

      body.addEventListener("dragover", function (event) {
        if (!dragged) { return; }
        event.preventDefault();
        var minute = minuteAt(body, event.clientY, dragged.grabOffset);
        marker.hidden = false;
        marker.style.top = ((minute - starts) * PX_PER_MINUTE) + "px";
        marker.style.height = (Number(dragged.card.dataset.minutes) * PX_PER_MINUTE) + "px";
        marker.textContent = label(minute);
      });
      body.addEventListener("dragleave", function () { marker.hidden = true; });
      body.addEventListener("drop", function (event) {
        if (!dragged) { return; }
        event.preventDefault();
        marker.hidden = true;
        move(dragged.card, column, minuteAt(body, event.clientY, dragged.grabOffset));
      });
      body.addEventListener("dblclick", function (event) {
        if (event.target.closest(".appt-card") || grid.dataset.by !== "provider") { return; }
        var minute = minuteAt(body, event.clientY, 0);
        window.location.assign(grid.dataset.newUrl + "&provider=" + column.dataset.drop +
          "&date=" + grid.dataset.day + "&time=" + wallClock(minute));
      });
    });

    grid.addEventListener("dragstart", function (event) {
      var card = event.target.closest && event.target.closest(".appt-card[data-move-url]");
      if (!card) { return; }
      dragged = { card: card, grabOffset: event.clientY - card.getBoundingClientRect().top };
      event.dataTransfer.effectAllowed = "move";
      // Something must be set for the drag to start; never the patient's name, which another
      // program could receive if the card were dropped outside the page.
      event.dataTransfer.setData("text/plain", card.dataset.moveUrl);
      card.classList.add("dragging");
      say("");
    });
    grid.addEventListener("dragend", function () {
      if (dragged) { dragged.card.classList.remove("dragging"); }
      dragged = null;
    });

    function move(card, column, minute) {
      var form = new FormData();
      form.append("date", grid.dataset.day);
      form.append("time", wallClock(minute));
      form.append(grid.dataset.by === "room" ? "room" : "provider", column.dataset.drop);
      card.classList.add("saving");
      say("Moving " + card.dataset.label + " to " + label(minute) + "…");
      fetch(card.dataset.moveUrl, {
        method: "POST",
        body: form,
        headers: { "X-CSRFToken": grid.dataset.csrf, "Accept": "application/json" },
        credentials: "same-origin"
      }).then(function (response) {
        return response.json().catch(function () { return { error: "The server did not answer (" + response.status + "). Nothing was moved." }; });
      }).then(function (answer) {
        if (answer.ok) {
          window.location.reload();
          return;
        }
        card.classList.remove("saving");
        say(answer.error || "Nothing was moved.");
      }).catch(function () {
        card.classList.remove("saving");
        say("No connection: nothing was moved. Try again, or use the card's Reschedule link.");
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-time-grid]").forEach(setUp);
  });
})();
