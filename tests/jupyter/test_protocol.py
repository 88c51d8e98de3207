"""jupyter_kernel_test's protocol checks, with every field that applies to kaish."""

from __future__ import annotations

import jupyter_kernel_test

from tests.jupyter.harness import KERNEL_NAME


class KaishKernelProtocolTests(jupyter_kernel_test.KernelTests):
    kernel_name = KERNEL_NAME
    language_name = "kaish"
    file_extension = ".kai"

    code_hello_world = "echo 'hello, world'"
    code_stderr = "echo oops >&2"
    code_generate_error = "false"

    completion_samples = [  # noqa: RUF012
        {"text": "ech", "matches": {"echo"}},
        {"text": "head --lin", "matches": {"--lines"}},
    ]
    complete_code_samples = ["echo hi", "if true; then echo yes; fi", "for x in 1 2; do echo $x; done"]  # noqa: RUF012
    incomplete_code_samples = ["if true; then", "echo 'abc", "for x in 1 2; do", "echo hi |"]  # noqa: RUF012
    invalid_code_samples = ["fi", "echo )", "done"]  # noqa: RUF012

    code_inspect_sample = "grep"

    code_execute_result = [  # noqa: RUF012
        {"code": "seq --json 1 3", "mime": "application/json"},
        {"code": "seq --json 1 2", "mime": "text/plain"},
    ]
    code_display_data = [{"code": "true &", "mime": "text/plain"}]  # noqa: RUF012

    supported_history_operations = ("tail", "range", "search")
    code_history_pattern = "seq --json 1 3"


class KaishIopubWelcomeTests(jupyter_kernel_test.IopubWelcomeTests):
    kernel_name = KERNEL_NAME
    support_iopub_welcome = True  # ipykernel 7's XPUB iopub greets each subscriber
