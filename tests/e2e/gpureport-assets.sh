#!/bin/sh
# SPDX-License-Identifier: MIT
# src/gpureport-assets.c is generated from src/report/ and committed:
# check that it is what scripts/embed-assets.sh writes today.
top=$(cd "$(dirname "$0")/../.." && pwd)
exec "$top/scripts/embed-assets.sh" --check
