from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data" / "biblio"

# A "citing articles" export in the WoS field-tagged layout, written for these tests: three papers
# citing the teacher's papers (the ten records of wos-plaintext-wok-tethne.txt) by DOI in CR.
CITING = """FN Clarivate Analytics Web of Science
VR 1.0
PT J
AU Marigomez, I
   Chen, L
AF Marigomez, Ionan
   Chen, Li
TI Biomarkers of marine pollution revisited
SO ECOTOXICOLOGY
PY 2014
CR Marigomez I, 2013, ECOTOXICOLOGY, V22, P486, DOI 10.1007/s10646-013-1042-4
   Han DM, 2013, ENVIRON MONIT ASSESS, V185, P3413, DOI 10.1007/s10661-012-2801-z
DI 10.1000/citing.1
UT WOS:000999999900001
ER

PT J
AU Zhang, W
AF Zhang, Wei
TI Coastal monitoring in China
SO MARINE POLICY
PY 2015
CR Marigomez I, 2013, ECOTOXICOLOGY, V22, P486, DOI 10.1007/s10646-013-1042-4
   Pinedo S, 2012, ECOL INDIC, V13, P1, DOI 10.1016/j.ecolind.2011.07.024
DI 10.1000/citing.2
ER

PT J
AU Pinedo, S
AF Pinedo, S.
TI Indicators of benthic quality, ten years on
SO ECOLOGICAL INDICATORS
PY 2016
CR Pinedo S, 2012, ECOL INDIC, V13, P1, DOI 10.1016/j.ecolind.2011.07.024
   Marigomez I, 2013, ECOTOXICOLOGY, V22, P486, DOI [10.1007/s10646-013-1042-4]
DI 10.1000/citing.3
UT WOS:000999999900003
ER

EF
"""
