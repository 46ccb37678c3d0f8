// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

// Short fixed-seed runs and corpus replays of the fuzz targets that open sockets (tap, tcp),
// each in a network namespace of its own.

import { registerShortRuns } from "./_short.ts";

registerShortRuns(true);
