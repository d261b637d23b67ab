"""The instructor and CI tools: what runs *notebooks* rather than models.

Never imported by a lab. A student reading `helpers/` sees only what the labs use; everything
here is for whoever executes, verifies, hands out or grades the labs:

- `runner`: execute labs with papermill (`python -m helpers run`);
- `verify`, `nbval_report`: re-run a submitted notebook and compare its checked outputs;
- `cells`: the course's cell conventions (solutions, check cells, checked outputs);
- `student`: student versions with the solutions stripped;
- `grading`, `feedback`: grade a folder of executed notebooks;
- `report`: the course report over every lab's results;
- `setup_check`: the environment check behind notebooks/00_setup;
- `devicecheck`: `device="cpu-strict"`, the tests' stand-in for a GPU on a CPU;
- `frontdoor`, `site`: the blank labs, install cells and links; the course's website;
- `cli`: the command line, `python -m helpers COMMAND`.
"""
