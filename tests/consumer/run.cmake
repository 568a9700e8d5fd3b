# Builds tests/consumer against Switchboard: MODE=find_package installs the
# already-built library from BINARY_DIR into a prefix and finds it there;
# MODE=add_subdirectory compiles the source tree inside the consumer.
set(consumer_source ${SOURCE_DIR}/tests/consumer)
set(hello ${SOURCE_DIR}/examples/hello/main.cpp)
file(REMOVE_RECURSE ${WORK_DIR})

function(run)
    execute_process(COMMAND ${ARGV} RESULT_VARIABLE code)
    if(NOT code EQUAL 0)
        message(FATAL_ERROR "failed (${code}): ${ARGV}")
    endif()
endfunction()

if(MODE STREQUAL "find_package")
    run(${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${WORK_DIR}/prefix)
    run(${CMAKE_COMMAND} -S ${consumer_source} -B ${WORK_DIR}/build -G Ninja
        -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DHELLO_SOURCE=${hello}
        -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_CXX_COMPILER_LAUNCHER=${CXX_LAUNCHER})
elseif(MODE STREQUAL "add_subdirectory")
    run(${CMAKE_COMMAND} -S ${consumer_source} -B ${WORK_DIR}/build -G Ninja
        -DSWITCHBOARD_SOURCE_DIR=${SOURCE_DIR} -DHELLO_SOURCE=${hello}
        -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_CXX_COMPILER_LAUNCHER=${CXX_LAUNCHER}
        -DCMAKE_BUILD_TYPE=Release)
else()
    message(FATAL_ERROR "MODE must be find_package or add_subdirectory")
endif()
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
if(NOT EXISTS ${WORK_DIR}/build/consumer)
    message(FATAL_ERROR "the consumer was not built")
endif()
message(STATUS "consumer built with ${MODE}")
