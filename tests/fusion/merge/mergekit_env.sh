#!/usr/bin/env bash
# Build .venv-mergekit: mergekit 0.1.4 layered over .venv's packages, for the parity test
# (tests/fusion/merge/test_mergekit_parity.py). Run through `make mergekit-env`.
#
# mergekit 0.1.4 pins accelerate~=1.6, pydantic~=2.10.6, safetensors~=0.5.2, click==8.2.1 and
# tqdm==4.67.1; resolving them would replace the suite's versions. So .venv's site-packages is
# added to this venv's path (torch and transformers are reused, nothing is downloaded twice)
# and only what .venv lacks is installed, with --no-deps, plus pydantic 2.10 in this venv only
# (mergekit 0.1.4's task classes fail to build under the suite's pydantic 2.14); `import
# mergekit.merge` checks the result.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ENV=.venv-mergekit
rm -rf "$ENV"
.venv/bin/python -m venv "$ENV"
suite_site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
env_site=$("$ENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "import site; site.addsitedir('$suite_site')" > "$env_site/suite_venv.pth"
"$ENV/bin/pip" install -q --no-deps mergekit==0.1.4 immutables==0.21 peft==0.17.1 sentencepiece==0.2.1 \
    pydantic==2.10.6 pydantic-core==2.27.2 \
    2>&1 | { grep -v "is ignored: it is neither" || true; }
"$ENV/bin/python" -c "import mergekit.merge, torch, transformers; print('mergekit env: torch', torch.__version__, 'transformers', transformers.__version__)"
touch "$ENV/.installed"
