// The admin's ticket reply form: choosing a canned reply puts its text in the reply box (edit it, or send
// it as is; without JavaScript an empty reply with a canned one chosen sends the canned text).
document.addEventListener("DOMContentLoaded", () => {
  const data = document.getElementById("canned-replies");
  const form = document.getElementById("staff-reply-form");
  if (!data || !form) return;
  const replies = JSON.parse(data.textContent);
  const select = form.querySelector("select[name=canned]");
  const body = form.querySelector("textarea[name=body]");
  if (!select || !body) return;
  select.addEventListener("change", () => {
    if (replies[select.value] !== undefined) body.value = replies[select.value];
  });
});
