// The home page talks to the two lifted coroutine views: a JSON endpoint and a websocket.
async function refreshClock() {
  const response = await fetch(window.CLOCK_URL);
  const data = await response.json();
  document.getElementById("clock").textContent = `${data.now} (${data.served_by})`;
}
refreshClock();
setInterval(refreshClock, 1000);

const scheme = location.protocol === "https:" ? "wss" : "ws";
const socket = new WebSocket(`${scheme}://${location.host}${window.ECHO_URL}`);
socket.addEventListener("message", (event) => {
  document.getElementById("echo-reply").textContent = event.data;
});
document.getElementById("echo-send").addEventListener("click", () => {
  socket.send(document.getElementById("echo-input").value);
});

// The feed carries the chat room's events, so, like the room, it needs a login.
if (window.FEED_URL) {
  const feed = new EventSource(window.FEED_URL);
  feed.addEventListener("message", (event) => {
    const data = JSON.parse(event.data);
    const text = {
      message: () => `${data.user}: ${data.text}`,
      announcement: () => `announcement from ${data.user}: ${data.text}`,
      presence: () => data.text,
      tick: () => `listening (${data.now})`,
    }[data.type];
    if (text) {
      document.getElementById("feed").textContent = text();
    }
  });
}
