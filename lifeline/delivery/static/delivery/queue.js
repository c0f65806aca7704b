// Keyboard shortcuts for the staff queue (the page works without them):
//   j / k  next / previous request      x  tick or untick it      o / Enter  open it
//   a      assign the ticked ones to me   /  search
document.addEventListener("DOMContentLoaded", () => {
  const rows = Array.from(document.querySelectorAll("tr[data-href]"));
  if (!rows.length) return;
  let current = 0;
  const mark = (i) => {
    rows.forEach((r) => r.classList.remove("current"));
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows[current].classList.add("current");
    rows[current].scrollIntoView({ block: "nearest" });
  };
  mark(0);
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const box = rows[current].querySelector("input[type=checkbox]");
    switch (event.key) {
      case "j": mark(current + 1); break;
      case "k": mark(current - 1); break;
      case "x": if (box) box.checked = !box.checked; break;
      case "o": case "Enter": window.location.href = rows[current].dataset.href; break;
      case "a": document.getElementById("assign-selected")?.click(); break;
      case "/": document.getElementById("id_q")?.focus(); break;
      default: return;
    }
    event.preventDefault();
  });
});
