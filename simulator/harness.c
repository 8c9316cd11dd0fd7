int m7sim_main_placeholder;
