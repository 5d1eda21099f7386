// Shows only the chosen workload kind's fields at once; the server renders the same choice
// (hidden + disabled) on every validation round, so this only saves the round trip.
document.addEventListener("change", function (event) {
  if (event.target.id !== "id_kind") { return; }
  document.querySelectorAll("fieldset[data-kind]").forEach(function (set) {
    var other = event.target.value !== "" && set.getAttribute("data-kind") !== event.target.value;
    set.hidden = other;
    set.disabled = other;
  });
});
