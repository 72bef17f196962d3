# The C embedding API from C: plexus.h compiled as strict C99 into C programs
# that see only what pkg-config gives an external host (the include folders
# and libplexus_runtime), then run.
set(PLEXUS_C_HOST_INCLUDES "${PROJECT_SOURCE_DIR}/runtime/include" "${PROJECT_SOURCE_DIR}/core/include")

function(plexus_add_c_host name source)
  add_executable(${name} "${source}")
  target_include_directories(${name} PRIVATE ${PLEXUS_C_HOST_INCLUDES})
  target_link_libraries(${name} PRIVATE "$<TARGET_FILE:plexus_runtime>" Threads::Threads)
  add_dependencies(${name} plexus_runtime)
  set_target_properties(${name} PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF LINKER_LANGUAGE C)
  target_compile_options(${name} PRIVATE -Wall -Wextra -pedantic -Werror)
endfunction()

plexus_add_c_host(plexus_h_c99 "${CMAKE_CURRENT_LIST_DIR}/plexus_h_c99.c")
add_test(NAME CApiC99.HeaderCompilesAndRunsAsC
         COMMAND plexus_h_c99 "${PROJECT_SOURCE_DIR}/models/mnist_mlp.pbtxt")
set_tests_properties(CApiC99.HeaderCompilesAndRunsAsC PROPERTIES PASS_REGULAR_EXPRESSION "^ok\n$" TIMEOUT 120)

# examples/host_c: classify the MNIST test images from four threads with a
# checkpoint the CLI trains for one epoch first (a ctest fixture).
plexus_add_c_host(plexus_host_c "${PROJECT_SOURCE_DIR}/examples/host_c/host.c")
set(PLEXUS_HOST_C_CKPT "${CMAKE_CURRENT_BINARY_DIR}/host_c/mnist_1epoch.ckpt")
file(MAKE_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}/host_c")
add_test(NAME CApiHostExample.TrainCheckpoint
         COMMAND plexus train "${PROJECT_SOURCE_DIR}/models/mnist_mlp.pbtxt" --epochs 1 --threads 2 --save "${PLEXUS_HOST_C_CKPT}")
set_tests_properties(CApiHostExample.TrainCheckpoint PROPERTIES FIXTURES_SETUP plexus_host_c_ckpt TIMEOUT 600)
add_test(NAME CApiHostExample.ClassifiesFromFourThreads
         COMMAND plexus_host_c "${PROJECT_SOURCE_DIR}/models/mnist_mlp.pbtxt" "${PLEXUS_HOST_C_CKPT}" 4)
set_tests_properties(CApiHostExample.ClassifiesFromFourThreads PROPERTIES
  FIXTURES_REQUIRED plexus_host_c_ckpt TIMEOUT 300
  PASS_REGULAR_EXPRESSION "(^|\n)accuracy 0\\.(8[5-9]|9[0-9])[0-9]* \\([0-9]+/2000\\) throughput [0-9]+ samples/s threads 4\n$")
add_test(NAME CApiHostExample.MissingCheckpointFailsWithMessage
         COMMAND plexus_host_c "${PROJECT_SOURCE_DIR}/models/mnist_mlp.pbtxt" "${CMAKE_CURRENT_BINARY_DIR}/host_c/none.ckpt")
set_tests_properties(CApiHostExample.MissingCheckpointFailsWithMessage PROPERTIES
  PASS_REGULAR_EXPRESSION "plx_model_load: [^\n]*none\\.ckpt" TIMEOUT 60)

# profile_test also runs `plexus train --profile`.
add_dependencies(profile_test plexus)
