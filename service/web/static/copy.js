// Copy buttons beside truncated hashes: the full value goes to the clipboard. The buttons stay hidden without
// JavaScript (the full value is still in the hash's title), so no button ever does nothing.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const label = button.textContent;
      try {
        await navigator.clipboard.writeText(button.dataset.copy);
        button.textContent = "Copied";
      } catch {
        button.textContent = "Copy failed: select the title";
      }
      setTimeout(() => { button.textContent = label; }, 2000);
    });
  }
});
