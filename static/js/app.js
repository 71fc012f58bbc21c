// Site-wide behaviour. Kept in a file (never inline) so the CSP can forbid inline script.

// On a phone the staff menu is one row that scrolls sideways: bring the current page's link into
// view. Only the menu scrolls (scrollLeft), never the page.
document.addEventListener("DOMContentLoaded", function () {
  var nav = document.querySelector(".mainnav");
  var current = nav && nav.querySelector("[aria-current=page]");
  if (!current || nav.scrollWidth <= nav.clientWidth) return;
  nav.scrollLeft = current.offsetLeft - nav.offsetLeft - (nav.clientWidth - current.offsetWidth) / 2;
});
