// SPDX-License-Identifier: GPL-3.0-or-later
#include <uidsync/cli/run.hpp>

int main(int argc, char** argv) { return uidsync::cli::run(argc, argv); }
