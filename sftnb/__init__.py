__version__ = "0.0.1"

import logging as _logging
# bitsandbytes (the `qlora` extra) warns at import, on CPUs with AVX512-BF16, that the optional `kernels` package is missing;
# peft imports bitsandbytes whenever it is installed, so every sftnb command would print it. The fallback it takes works.
_logging.getLogger('bitsandbytes.backends.cpu.ops').setLevel(_logging.ERROR)
