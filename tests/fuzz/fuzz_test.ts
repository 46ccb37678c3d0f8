// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

// Short fixed-seed runs and corpus replays of the fuzz targets that need no sockets:
// framing, options, wire.

import { registerShortRuns } from "./_short.ts";

registerShortRuns(false);
