-- 0005: the process group of every backend the engine runs as a process,
-- as the stacks package describes it (a JSON object: pgid, the leader's
-- start time, the boot, a token in every process's environment). The
-- engine writes a row when a backend starts and deletes it when it stops;
-- an engine that starts finds the rows a killed one left and ends what is
-- still running of those groups. No foreign key: a removed project's
-- leftovers must still be found.

CREATE TABLE backend_groups (
  project TEXT NOT NULL,
  service TEXT NOT NULL,
  data    TEXT NOT NULL,
  PRIMARY KEY (project, service)
);
