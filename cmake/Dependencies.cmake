# SPDX-License-Identifier: GPL-3.0-or-later
# The one place where third-party dependencies are found. All come from Debian
# packages; contrib/install-deps installs them.
find_package(Threads REQUIRED)
find_package(CURL REQUIRED)          # libcurl4-openssl-dev (OpenSSL flavour)
find_package(OpenSSL REQUIRED)       # libssl-dev
find_package(SQLite3 REQUIRED)       # libsqlite3-dev
find_package(CLI11 REQUIRED)         # libcli11-dev
find_package(fmt REQUIRED)           # libfmt-dev
find_package(spdlog REQUIRED)        # libspdlog-dev
find_package(tomlplusplus REQUIRED)  # libtomlplusplus-dev
find_package(ZLIB REQUIRED)          # zlib1g-dev (COMPRESS=DEFLATE)
if(UIDSYNC_TESTS)
  find_package(GTest REQUIRED)       # libgtest-dev, libgmock-dev
endif()
find_program(SCDOC scdoc REQUIRED)   # scdoc: the man pages in docs/man/

