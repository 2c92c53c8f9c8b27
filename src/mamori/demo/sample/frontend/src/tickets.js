// Ticket board: groups open tickets by line and renders them.
import _ from "lodash";
import dayjs from "dayjs";

export async function loadBoard(apiBase, lines) {
  const results = await Promise.all(
    lines.map((line) =>
      fetch(`${apiBase}/tickets?line=${encodeURIComponent(line)}`).then((r) => r.json())
    )
  );
  const tickets = _.flatMap(results, (r) => r.tickets);
  return _.groupBy(
    _.sortBy(tickets, (t) => -dayjs(t.opened).valueOf()),
    (t) => t.line
  );
}

export function renderBoard(root, board) {
  root.replaceChildren();
  for (const [line, tickets] of Object.entries(board)) {
    const section = document.createElement("section");
    const heading = document.createElement("h2");
    heading.textContent = `${line} (${tickets.length})`;
    section.append(heading);
    for (const t of tickets) {
      const item = document.createElement("p");
      item.textContent = `#${t.id} ${t.asset}: ${t.title} — ${dayjs(t.opened).format("D MMM")}`;
      section.append(item);
    }
    root.append(section);
  }
}
