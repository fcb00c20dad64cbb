# SPDX-License-Identifier: GPL-3.0-or-later
# Everything `cmake --install` puts next to the binary, and the .deb (`cpack -G DEB`).

# Man pages: one scdoc source each in docs/man/, rendered at build time.
set(UIDSYNC_MAN_PAGES uidsync.1 uidsync.toml.5)
set(UIDSYNC_MAN_OUTPUTS)
foreach(page IN LISTS UIDSYNC_MAN_PAGES)
  set(source "${PROJECT_SOURCE_DIR}/docs/man/${page}.scd")
  set(output "${PROJECT_BINARY_DIR}/man/${page}")
  add_custom_command(
    OUTPUT "${output}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${PROJECT_BINARY_DIR}/man"
    COMMAND sh -c "\"$1\" < \"$2\" > \"$3\"" scdoc "${SCDOC}" "${source}" "${output}"
    DEPENDS "${source}"
    COMMENT "scdoc ${page}"
    VERBATIM)
  list(APPEND UIDSYNC_MAN_OUTPUTS "${output}")
  string(REGEX MATCH "[0-9]$" section "${page}")
  install(FILES "${output}" DESTINATION "${CMAKE_INSTALL_MANDIR}/man${section}")
endforeach()
add_custom_target(uidsync_man ALL DEPENDS ${UIDSYNC_MAN_OUTPUTS})

# systemd user units. The service names the installed binary, so it is filled in
# at install time, when the prefix is final (cpack installs into /usr).
install(CODE "
  set(UIDSYNC_EXECUTABLE \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/uidsync\")
  configure_file(\"${PROJECT_SOURCE_DIR}/contrib/systemd/uidsync@.service.in\"
                 \"${PROJECT_BINARY_DIR}/systemd/uidsync@.service\" @ONLY)")
install(FILES "${PROJECT_BINARY_DIR}/systemd/uidsync@.service"
              "${PROJECT_SOURCE_DIR}/contrib/systemd/uidsync@.timer"
        DESTINATION lib/systemd/user) # relative: under the prefix given at install time

# Shell completions and the annotated sample config.
install(FILES "${PROJECT_SOURCE_DIR}/contrib/completions/uidsync.bash"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/bash-completion/completions" RENAME uidsync)
install(FILES "${PROJECT_SOURCE_DIR}/contrib/completions/_uidsync"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions")
install(FILES "${PROJECT_SOURCE_DIR}/contrib/config.sample.toml"
              "${PROJECT_SOURCE_DIR}/contrib/notmuch/post-new"
              "${PROJECT_SOURCE_DIR}/contrib/mutt/neomuttrc"
        DESTINATION "${CMAKE_INSTALL_DOCDIR}/examples")

# The Debian package: `cpack -G DEB` in a build directory.
set(CPACK_PACKAGE_NAME uidsync)
set(CPACK_PACKAGE_VENDOR "uidsync developers")
set(CPACK_PACKAGE_CONTACT "uidsync developers <uidsync@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "keep a local Maildir in step with IMAP accounts")
set(CPACK_PACKAGE_DESCRIPTION "uidsync synchronizes IMAP accounts with local Maildir \
folders, both ways. A message the server cannot deliver is quarantined instead of \
stopping the run.")
set(CPACK_PACKAGE_INSTALL_DIRECTORY uidsync)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION mail)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON) # the library packages, found with dpkg-shlibdeps
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "notmuch, neomutt | mutt")
set(CPACK_GENERATOR DEB)
include(CPack)
