"""Locust users for `manage.py bench_load`, which starts locust on this file, headless and bounded.

Everything comes from the environment the command sets; run alone, the same variables drive it:

    BENCH_SCENARIO=add BENCH_API_KEY=... BENCH_SERVICE=12 \
        locust -f tools/locustfile.py --headless -u 32 -r 32 -t 20s --host http://127.0.0.1:8000

- `add`: an API `add` per request, as fast as answers come (no wait); an answer without an order id fails.
  `BENCH_EXPECT_REFUSALS=1` (the overdraft run) counts refused adds as failures, without logging each.
- `status`: an API `status` with the 100 ids of `BENCH_ORDER_IDS`; an answer without all of them fails.
- `pages`: every page of `BENCH_PAGES` (JSON: [[name, path], ...]) in turn, signed in by the session
  cookie `BENCH_SESSION_COOKIE` (name=value); anything but a 200 fails, a redirect to the login page too.
"""

import json
import os

from locust import FastHttpUser, constant, task

SCENARIO = os.environ.get("BENCH_SCENARIO", "add")
API_PATH = "/api/v2"


class ApiUser(FastHttpUser):
    wait_time = constant(0)
    abstract = SCENARIO not in ("add", "status")

    def on_start(self):
        self.key = os.environ["BENCH_API_KEY"]
        self.expect_refusals = os.environ.get("BENCH_EXPECT_REFUSALS") == "1"
        if SCENARIO == "add":
            self.fields = {
                "key": self.key,
                "action": "add",
                "service": os.environ["BENCH_SERVICE"],
                "link": "https://instagram.com/p/bench",
                "quantity": os.environ.get("BENCH_QUANTITY", "1000"),
            }
        else:
            self.ids = os.environ["BENCH_ORDER_IDS"].split(",")
            self.fields = {"key": self.key, "action": "status", "orders": ",".join(self.ids)}

    @task
    def call(self):
        name = "add" if SCENARIO == "add" else f"status {len(self.ids)} ids"
        with self.client.post(API_PATH, data=self.fields, name=name, catch_response=True) as response:
            try:
                answer = response.json()
            except ValueError:
                response.failure(f"not JSON: HTTP {response.status_code}")
                return
            if SCENARIO == "add":
                if not isinstance(answer, dict) or "order" not in answer:
                    response.failure("refused" if self.expect_refusals else f"answered {answer!r:.200}")
            elif not isinstance(answer, dict) or any(
                "error" in answer.get(token, {"error": ""}) for token in self.ids
            ):
                response.failure(f"answered {str(answer)[:200]}")


class PageUser(FastHttpUser):
    wait_time = constant(0)
    abstract = SCENARIO != "pages"

    def on_start(self):
        self.pages = json.loads(os.environ["BENCH_PAGES"])
        name, _, value = os.environ["BENCH_SESSION_COOKIE"].partition("=")
        self.cookie = f"{name}={value}"

    @task
    def every_page(self):
        for name, path in self.pages:
            headers = {"Cookie": self.cookie}
            with self.client.get(
                path, name=name, headers=headers, allow_redirects=False, catch_response=True
            ) as response:
                if response.status_code != 200:
                    response.failure(f"HTTP {response.status_code} {response.headers.get('Location', '')}")
