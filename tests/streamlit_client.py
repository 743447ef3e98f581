"""Streamlit's own protocol, spoken as a browser tab speaks it: sessions that draw and clear, and a classroom of them.

A browser tab holds one websocket to /_stcore/stream. It sends `BackMsg` protobufs: a `rerun_script`
when the page opens, and one at every stroke or click, carrying the value of every widget of the last
run. It receives `ForwardMsg` protobufs: a `delta` per element of a run, then `script_finished`. Over
HTTP it fetches what the elements reference: every `st.image`'s file under /media/, and the stylesheet
of every new instance of the canvas component (after each Clear, since Clear gives the canvas a new key).

`Session` does all of that without a browser: it learns the widgets, their ids and the values a browser
would hold for them from the deltas, and draws by sending canvas values recorded from Chromium
(bench/strokes.json, written by bench/record_strokes.py). `open_class` and `run_lesson` put many
sessions on one server, each drawing a digit about every ten seconds, then pressing Clear.

A form is sent as Chromium sends it (checked with Playwright's `framesent`): typing into its text inputs
sends nothing, and opening the expander around it neither; its submit button sends one `rerun_script`
with every widget's value, the typed texts in place of the empty ones the inputs reported when they were
shown, and the submit button's trigger. `join_class` joins every session to a class of the app that way
(the Draw page's "Join a class" form), and `run_lesson(..., confirm=True)` has each student press Right
under a reading that is right, which saves it to the class's wall.
"""

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ContextInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

ROOT = Path(__file__).resolve().parent.parent
STROKES = ROOT / "bench" / "strokes.json"
CANVAS_COMPONENT = "streamlit-drawable-canvas.streamlit_drawable_canvas"
PREDICTION_LABEL = "Prediction"
CLEAR_LABEL = "Clear"
RIGHT_LABEL = "Right"
# The Draw page's "Join a class" form: its two text inputs and its submit button.
JOIN_CODE_LABEL = "Class code"
JOIN_NAME_LABEL = "Your first name or a nickname"
JOIN_LABEL = "Join"
# What Chromium asks for, so that the server compresses what it would compress for a browser.
ACCEPT_ENCODING = "gzip, deflate, br, zstd"
# The requests a browser makes when it opens the page, just before it opens the websocket.
OPENING_REQUESTS = ("/_stcore/health", "/_stcore/host-config")
PERIOD_SECONDS = 10  # A student draws a digit about every ten seconds,
LOOK_SECONDS = 2  # looks at the answer for a moment, then presses Clear.
ANSWER_TIMEOUT_SECONDS = 60


def recorded_strokes(path=STROKES):
    """The recorded canvas values: a list of (label, the canvas widget's JSON value as Chromium sent it)."""
    recording = json.loads(Path(path).read_text())
    return [(stroke["label"], stroke["canvas_value"]) for stroke in recording["strokes"]]


def value_on_mount(element_type, element):
    """The value a browser reports for a widget it has just shown and nobody has touched; None for none.

    Buttons report only when pressed, and the canvas only once something is drawn on it.
    """
    state = WidgetState(id=element.id)
    if element_type == "selectbox" and (element.HasField("raw_value") or element.HasField("default")):
        state.string_value = element.raw_value if element.HasField("raw_value") else element.options[element.default]
    elif element_type == "slider":
        state.double_array_value.data.extend(element.value if element.set_value else element.default)
    elif element_type == "text_input":
        state.string_value = element.value if element.set_value else element.default
    elif element_type == "file_uploader":
        state.file_uploader_state_value.SetInParent()
    else:
        return None
    return state


@dataclass
class Run:
    """One script run as the session saw it: when it was asked for, the Prediction it showed, if any, its widgets.

    `widgets` holds the value the browser holds for each widget shown, by id; `widget_ids` the widgets' ids
    by label, and `alerts` the texts of the info, success, warning and error boxes shown.
    """

    sent_at: float
    prediction: str | None = None
    prediction_at: float | None = None
    widgets: dict = field(default_factory=dict)
    widget_ids: dict = field(default_factory=dict)
    alerts: list = field(default_factory=list)

    @property
    def prediction_ms(self):
        """Milliseconds from sending the request to the Prediction metric arriving."""
        return (self.prediction_at - self.sent_at) * 1000


class PageFetches:
    """What the tab fetches over HTTP beside its websocket, in order, on one keep-alive connection."""

    def __init__(self, url):
        address = urlsplit(url)
        self._host, self._port = address.hostname, address.port
        self._queue = asyncio.Queue()
        self._reader = self._writer = None
        self._worker = asyncio.create_task(self._fetch_queued())
        self.failed = []

    def fetch(self, path):
        """Fetch `path` once the paths asked for before it have been fetched."""
        self._queue.put_nowait(path)

    async def settle(self):
        """Wait until everything asked for has been fetched."""
        await self._queue.join()

    async def close(self):
        self._worker.cancel()
        if self._writer is not None:
            self._writer.close()

    async def _fetch_queued(self):
        while True:
            path = await self._queue.get()
            try:
                status = await self._get(path)
                if status != 200:
                    self.failed.append(f"{path}: HTTP {status}")
            except (OSError, asyncio.IncompleteReadError) as error:
                self.failed.append(f"{path}: {error!r}")
            finally:
                self._queue.task_done()

    async def _get(self, path):
        """GET `path` and read the whole answer; returns the HTTP status."""
        if self._writer is None or self._reader.at_eof():
            await self._connect()
        try:
            return await self._exchange(path)
        except (ConnectionError, asyncio.IncompleteReadError):
            # The server closed the idle connection just as the request went out: once more, on a new one.
            await self._connect()
            return await self._exchange(path)

    async def _connect(self):
        if self._writer is not None:
            self._writer.close()
        self._reader, self._writer = await asyncio.open_connection(self._host, self._port)

    async def _exchange(self, path):
        host = f"{self._host}:{self._port}"
        request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: {ACCEPT_ENCODING}\r\n\r\n"
        self._writer.write(request.encode())
        head = (await self._reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status_line, *header_lines = head.strip().split("\r\n")
        headers = dict(line.lower().split(":", 1) for line in header_lines)
        await self._reader.readexactly(int(headers["content-length"]))
        return int(status_line.split()[1])


class Session:
    """One tab on the app's Draw page: its websocket, the widgets of its last run, and what it fetches."""

    def __init__(self, url):
        self.url = url.rstrip("/")
        self.canvas_id = None
        self._websocket = None
        self._fetches = None
        self._widgets = {}  # The widgets of the last run by id, each with the value the browser holds for it.
        self._widget_ids = {}  # The ids of the last run's widgets by label.
        self._page_script_hash = ""
        self._context = ContextInfo(
            timezone="UTC",
            timezone_offset=0,
            locale="en-US",
            url=f"{self.url}/",
            is_embedded=False,
            color_scheme="light",
        )

    async def open(self):
        """Open the page as a browser does; returns its first Run."""
        self._fetches = PageFetches(self.url)
        for path in OPENING_REQUESTS:
            self._fetches.fetch(path)
        await self._fetches.settle()
        address = "ws" + self.url.removeprefix("http") + "/_stcore/stream"
        self._websocket = await websockets.connect(
            address, subprotocols=["streamlit"], origin=self.url, ping_interval=None, max_size=None
        )
        return await self._rerun()

    async def draw(self, canvas_value):
        """Lift the pen after a stroke: send the canvas's value as Chromium sent it; returns the Run it caused."""
        self._widgets[self.canvas_id] = WidgetState(id=self.canvas_id, json_value=canvas_value)
        return await self._rerun()

    async def press(self, label):
        """Press the button labelled `label` in the last run; returns the Run it caused."""
        return await self._rerun(WidgetState(id=self._widget_ids[label], trigger_value=True))

    async def clear(self):
        """Press Clear; returns the Run it caused."""
        return await self.press(CLEAR_LABEL)

    async def submit(self, texts, submit_label):
        """Type `texts` (label → text) into a form's text inputs, then press its submit button; returns the Run.

        Typing sends nothing: the texts go with the submit, each in place of its input's value so far.
        """
        for label, text in texts.items():
            widget_id = self._widget_ids[label]
            self._widgets[widget_id] = WidgetState(id=widget_id, string_value=text)
        return await self.press(submit_label)

    async def join(self, code, name):
        """Join the app's class `code` as `name` with the "Join a class" form; RuntimeError when the app refuses."""
        run = await self.submit({JOIN_CODE_LABEL: code, JOIN_NAME_LABEL: name}, JOIN_LABEL)
        if JOIN_LABEL in run.widget_ids:
            raise RuntimeError(f"{name} could not join class {code}: {' '.join(run.alerts) or 'the form stayed'}")
        return run

    async def settle(self):
        """Wait until the tab has fetched everything the runs so far referenced."""
        await self._fetches.settle()

    @property
    def failed_fetches(self):
        """The fetches that did not answer 200 OK, each as 'path: HTTP status'."""
        return self._fetches.failed

    async def close(self):
        """Close the tab."""
        await self._websocket.close()
        await self._fetches.close()

    async def _rerun(self, trigger=None):
        """Ask for a run with the widgets' values (and `trigger`, a pressed button); read it to its end."""
        message = BackMsg()
        request = message.rerun_script
        request.widget_states.SetInParent()
        request.widget_states.widgets.extend(self._widgets.values())
        if trigger is not None:
            request.widget_states.widgets.append(trigger)
        request.page_script_hash = self._page_script_hash
        request.context_info.CopyFrom(self._context)
        run = Run(sent_at=time.perf_counter())
        await self._websocket.send(message.SerializeToString())
        await self._read_run(run)
        return run

    async def _read_run(self, run):
        """Read the server's messages until the run has finished (not merely stopped for a newer one)."""
        async for frame in self._websocket:
            message = ForwardMsg.FromString(frame)
            kind = message.WhichOneof("type")
            if kind == "new_session":
                run.widgets, run.widget_ids, run.alerts = {}, {}, []
                self._page_script_hash = message.new_session.page_script_hash
            elif kind == "navigation":
                self._page_script_hash = message.navigation.page_script_hash
            elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                self._read_element(message.delta.new_element, run)
            elif kind == "script_finished" and message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                self._widgets, self._widget_ids = run.widgets, run.widget_ids
                return
        raise ConnectionError("the server closed the websocket during a run")

    def _read_element(self, element, run):
        """Note what one new element means to the tab: a prediction, an alert, a widget, something to fetch."""
        element_type = element.WhichOneof("type")
        body = getattr(element, element_type)
        if element_type == "metric" and body.label == PREDICTION_LABEL:
            run.prediction, run.prediction_at = body.body, time.perf_counter()
        elif element_type == "alert":
            run.alerts.append(body.body)
        elif element_type == "imgs":
            for image in body.imgs:
                self._fetches.fetch(urlsplit(urljoin(f"{self.url}/", image.url)).path)
        elif element_type == "bidi_component" and body.component_name == CANVAS_COMPONENT:
            self._note_canvas(body)
        if "id" in body.DESCRIPTOR.fields_by_name:
            value = self._widgets[body.id] if body.id in self._widgets else value_on_mount(element_type, body)
            if value is not None:
                run.widgets[body.id] = value
            if "label" in body.DESCRIPTOR.fields_by_name:
                run.widget_ids[body.label] = body.id

    def _note_canvas(self, canvas):
        """A new canvas instance makes the browser fetch its stylesheet; the first one in the tab its script too."""
        if canvas.id == self.canvas_id:
            return
        assets = f"/_stcore/bidi-components/{canvas.component_name}/"
        if self.canvas_id is None:
            self._fetches.fetch(assets + canvas.js_source_path)
        self._fetches.fetch(assets + canvas.css_source_path)
        self.canvas_id = canvas.id


@dataclass
class Lesson:
    """What a class of simulated students drew and how the app answered."""

    students: int
    sent: int = 0
    answered: int = 0
    right: int = 0
    confirmed: int = 0  # Readings confirmed with Right (in a lesson run with confirm=True).
    latencies_ms: list = field(default_factory=list)
    failed_fetches: list = field(default_factory=list)


async def open_class(url, students):
    """`students` sessions on the app at `url`, opened at the same time, each at its first run's end."""
    sessions = [Session(url) for _ in range(students)]
    await asyncio.gather(*(session.open() for session in sessions))
    return sessions


async def join_class(sessions, code):
    """Join every session to the app's class `code` with the Draw page's form, as "Student 1", "Student 2", …"""
    await asyncio.gather(*(session.join(code, f"Student {number}") for number, session in enumerate(sessions, 1)))


async def close_class(sessions):
    """Close every session once it has fetched what its runs showed."""
    await asyncio.gather(*(session.settle() for session in sessions))
    await asyncio.gather(*(session.close() for session in sessions))


async def run_lesson(sessions, strokes, seconds, seed=0, confirm=False):
    """Each session draws a recorded digit about every PERIOD_SECONDS for `seconds`, from a random moment on.

    With `confirm`, each student presses Right under a reading that is right before pressing Clear.
    """
    lesson = Lesson(students=len(sessions))
    rng = random.Random(seed)
    start = asyncio.get_running_loop().time()
    await asyncio.gather(
        *(
            student(session, strokes, lesson, start + rng.uniform(0, PERIOD_SECONDS), start + seconds, rng, confirm)
            for session in sessions
        )
    )
    for session in sessions:
        lesson.failed_fetches.extend(session.failed_fetches)
    return lesson


async def in_time(request):
    """The Run `request` (a Session coroutine) returns, or None when it takes over ANSWER_TIMEOUT_SECONDS."""
    try:
        return await asyncio.wait_for(request, ANSWER_TIMEOUT_SECONDS)
    except TimeoutError:
        return None


async def student(session, strokes, lesson, first, end, rng, confirm=False):
    """Draw a digit at `first` and every PERIOD_SECONDS after it until `end`, each read, looked at and cleared.

    With `confirm`, a reading that is right is confirmed with Right (one more run) before Clear, and the
    digit confirmed last is not drawn next: the app takes the same pixels again for a drawing already saved,
    and shows no Right button under it.
    A student whose drawing is not answered within ANSWER_TIMEOUT_SECONDS gives up for the rest of the lesson.
    """
    loop = asyncio.get_running_loop()
    moment = first
    confirmed = None
    while moment < end:
        await asyncio.sleep(moment - loop.time())
        label, canvas_value = rng.choice([stroke for stroke in strokes if stroke[1] != confirmed])
        lesson.sent += 1
        run = await in_time(session.draw(canvas_value))
        if run is None:
            return
        if run.prediction is not None:
            lesson.answered += 1
            lesson.right += run.prediction == label
            lesson.latencies_ms.append(run.prediction_ms)
        await asyncio.sleep(LOOK_SECONDS)
        await session.settle()  # The student looks at the pictures too, once they are there.
        if confirm and run.prediction == label:
            if await in_time(session.press(RIGHT_LABEL)) is None:
                return
            lesson.confirmed += 1
            confirmed = canvas_value
            await session.settle()
        if await in_time(session.clear()) is None:
            return
        # A student whose answer came late draws the next digit at once.
        moment = max(moment + PERIOD_SECONDS, loop.time())
