// Keyboard shortcuts for the reference desk (the pages work without them):
//   queue: j / k next / previous question, o or Enter open it, / search
//   ticket: r focus the answer, n focus the note, g back to the queue
document.addEventListener("DOMContentLoaded", () => {
  const rows = Array.from(document.querySelectorAll("#ticket-queue tr[data-href]"));
  let current = 0;
  const mark = (i) => {
    if (!rows.length) return;
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
    switch (event.key) {
      case "j": mark(current + 1); break;
      case "k": mark(current - 1); break;
      case "o": case "Enter": if (rows.length) window.location.href = rows[current].dataset.href; else return; break;
      case "/": document.getElementById("id_q")?.focus(); break;
      case "r": document.querySelector("form[action$='/answer/'] textarea")?.focus(); break;
      case "n": document.querySelector("form[action$='/note/'] textarea")?.focus(); break;
      default: return;
    }
    event.preventDefault();
  });
});
