// The app keeps its settings in the dataStore (its reserved namespace) and calls the national
// facility registry only through the platform's Route API: it never holds a credential, and the
// platform crosses the mediator as its own member.
async function json(path) {
  const answer = await fetch(path, { headers: { Accept: "application/json" } });
  if (!answer.ok) throw new Error(`${path}: ${answer.status}`);
  return answer.json();
}

async function main() {
  const settings = await json("/api/dataStore/facility-finder/settings");
  document.getElementById("code").textContent = settings.facilityCode;
  const location = await json(`/api/routes/${settings.route}/run/${settings.facilityCode}`);
  document.getElementById("facility").textContent = `${location.name} (${location.status})`;
}

main().catch((error) => {
  document.getElementById("status").textContent = String(error);
});
