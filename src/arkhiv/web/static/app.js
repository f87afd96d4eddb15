// arkhiv search page: small conveniences only; everything works without JavaScript.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // A changed filter searches again at once.
  for (const select of document.querySelectorAll("select.autosubmit")) {
    select.addEventListener("change", () => select.form && select.form.submit());
  }
  // "/" jumps to the search box, as on many search sites.
  const box = document.getElementById("q");
  document.addEventListener("keydown", (event) => {
    if (event.key === "/" && box && document.activeElement !== box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });
  // The page asked for in the address (#page-N) is scrolled into view and marked.
  const target = location.hash && document.querySelector(location.hash);
  if (target) target.classList.add("selected");
});
