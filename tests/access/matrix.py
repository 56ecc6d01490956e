# ruff: noqa: E501  (the table is read across: one row per resource and action, one column per actor)
"""The access matrix: role x resource x action, in one table. tests/access/test_matrix.py runs every cell.

THE WORLD (built once by test_matrix.py): study S with sites A and B, study O with site Z, one record
of each resource at each of A, B and Z. The actors:

    superuser        a superuser
    study_admin      study administrator of S (all sites)
    data_manager     data manager of S (all sites)
    monitor          monitor of S (all sites)
    sponsor          sponsor viewer of S (all sites)
    coordinator_a    site coordinator of S at site A
    investigator_a   investigator of S at site A
    outsider         site coordinator of O at site Z (another study)
    nobody           a staff user without memberships
    anonymous        not signed in

A CELL says what the actor gets, per target record (A, B or Z; for studies S or O):

    200:AB,403:Z   answer 200 for the records at A and B, 403 for Z. A target a cell does not name is
                   HIDDEN: the answer must be exactly the one for an id that does not exist (404 in the
                   API, the admin's "does not exist" redirect...), writes change nothing, and the page
                   does not contain the record's marker (no leak of its existence or content).
    saved:A        (admin writes) the change was stored. A delete that removed the record answers
                   "deleted", which no cell names: nobody deletes anything.
    AB / -         (list actions) exactly these targets are listed, also under a filter naming each
                   target's site, and the count matches: "-" none.
    401, 403, 200, login    the same answer for every target (login: the admin's redirect to its
                   login page).

ADDING A RESOURCE: describe it in test_matrix.py (a Resource with its targets and actions; most are
generic: ApiRecords / AdminRecords) and add its rows below. Rows of later issues go here too.
"""

from __future__ import annotations

ACTORS = (
    "superuser",
    "study_admin",
    "data_manager",
    "monitor",
    "sponsor",
    "coordinator_a",
    "investigator_a",
    "outsider",
    "nobody",
    "anonymous",
)

# fmt: off
TABLE = """
door  resource     action    superuser  study_admin  data_manager  monitor   sponsor   coordinator_a  investigator_a  outsider  nobody  anonymous
api   subjects     list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   subjects     retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   subjects     history   200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   subjects     create    201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
api   subjects     change    200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   subjects     void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   studies      list      SO         S            S             S         S         S              S               O         -       401
api   studies      retrieve  200:SO     200:S        200:S         200:S     200:S     200:S          200:S           200:O     -       401
api   forms        list      200        200          200           200       200       200            200             200       200     401
api   forms        retrieve  200        200          200           200       200       200            200             200       200     401
admin subjects     list      ABZ        AB           AB            AB        AB        A              A               Z         403     login
admin subjects     add       200        403          403           403       403       200            200             200       403     login
admin subjects     view      200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     403     login
admin subjects     change    saved:ABZ  403:AB       403:AB        403:AB    403:AB    saved:A        saved:A         saved:Z   403     login
admin subjects     history   200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       login
admin subjects     version   200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       login
admin memberships  list      ABZ        AB           403           403       403       403            403             403       403     login
admin memberships  add       200        200          403           403       403       403            403             403       403     login
admin memberships  view      200:ABZ    200:AB       403           403       403       403            403             403       403     login
admin memberships  change    saved:ABZ  saved:AB     403           403       403       403            403             403       403     login
admin memberships  history   200:ABZ    200:AB       -             -         -         -              -               -         -       login
admin memberships  version   200:ABZ    200:AB       -             -         -         -              -               -         -       login
admin memberships  delete    403:ABZ    403:AB       403           403       403       403            403             403       403     login
admin definitions  list      SO         S            S             S         S         S              S               O         -       login
admin definitions  add       200        200          403           403       403       403            403             403       403     login
admin definitions  view      200:SO     200:S        200:S         200:S     200:S     200:S          200:S           200:O     -       login
admin definitions  change    saved:SO   saved:S      403:S         403:S     403:S     403:S          403:S           403:O     -       login
admin definitions  history   200:SO     200:S        200:S         200:S     200:S     200:S          200:S           200:O     -       login
admin definitions  version   200:SO     200:S        200:S         200:S     200:S     200:S          200:S           200:O     -       login
admin definitions  delete    403:SO     403:S        403:S         403:S     403:S     403:S          403:S           403:O     -       login
admin ctcae_terms  list      200        200          200           200       200       200            200             200       403     login
admin ctcae_terms  add       403        403          403           403       403       403            403             403       403     login
admin ctcae_terms  view      200        200          200           200       200       200            200             200       403     login
admin ctcae_terms  change    403        403          403           403       403       403            403             403       403     login
admin ctcae_terms  delete    403        403          403           403       403       403            403             403       403     login
admin account_events list    200        403          403           403       403       403            403             403       403     login
admin account_events add     403        403          403           403       403       403            403             403       403     login
admin account_events view    200        403          403           403       403       403            403             403       403     login
admin account_events change  403        403          403           403       403       403            403             403       403     login
admin account_events delete  403        403          403           403       403       403            403             403       403     login
admin users        list      200        403          403           403       403       403            403             403       403     login
api   tools_recist evaluate  200        200          200           200       200       200            200             200       200     401
api   tools_irecist evaluate 200        200          200           200       200       200            200             200       200     401
api   tools_endpoints evaluate 200      200          200           200       200       200            200             200       200     401
api   ctcae_grade  grade     200        200          200           200       200       200            200             200       200     401
api   ctcae_terms  list      200        200          200           200       200       200            200             200       200     401
api   consents                 list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   consents                 retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   consents                 create    201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
api   consents                 void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   consent-versions         list      SO         S            S             S         S         S              S               O         -       401
api   reconsent-due            retrieve  200:SO     200:S        200:S         200:S     200:S     200:S          200:S           200:O     -       401
api   visits                   list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   visits                   retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   eligibility              retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   eligibility              sign      201:ABZ    403:AB       403:AB        403:AB    403:AB    403:A          201:A           403:Z     -       401
api   enroll                   post      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   screen-fail              post      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   withdraw                 post      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   vital-signs              list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   vital-signs              retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   vital-signs              create    201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
api   vital-signs              void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   ecog                     list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   ecog                     retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   ecog                     create    201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
api   ecog                     change    200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   ecog                     void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   lab-results              list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   lab-results              retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   lab-results              create    201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
api   lab-results              void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   pregnancy-tests          list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   pregnancy-tests          retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   pregnancy-tests          create    201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
api   pregnancy-tests          void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   disease-baseline         list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   disease-baseline         retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   disease-baseline         void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   prior-therapies          list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   prior-therapies          retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   prior-therapies          create    201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
api   prior-therapies          void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   medical-history          list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   medical-history          retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   medical-history          create    201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
api   medical-history          void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   concomitant-medications  list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   concomitant-medications  retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   concomitant-medications  create    201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
api   concomitant-medications  void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   history-answers          list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   history-answers          retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   history-answers          void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
admin visits                   list      ABZ        AB           AB            AB        AB        A              A               Z         403     login
admin visits                   view      200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     403     login
admin screening-log            list      ABZ        AB           AB            AB        AB        A              A               Z         403     login
admin eligibility              view      200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       login
admin enroll                   view      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       login
api   radiotherapy-courses     list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   radiotherapy-courses     retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   radiotherapy-courses     create    201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
api   radiotherapy-courses     void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   biomarkers               list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   biomarkers               retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   biomarkers               create    201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
api   biomarkers               void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   survival-follow-ups      list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   survival-follow-ups      retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   survival-follow-ups      create    201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
api   survival-follow-ups      void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   subsequent-therapies     list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   subsequent-therapies     retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   subsequent-therapies     create    201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
api   subsequent-therapies     void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   deaths                   list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   deaths                   retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   deaths                   create    201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
api   deaths                   void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   restricted-medication-flags list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   restricted-medication-flags retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
# --- issue 21 ---
api   tumor-lesions            list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   tumor-lesions            retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   tumor-lesions            history   200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   tumor-lesions            create    201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
api   tumor-lesions            change    200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   tumor-lesions            void      400:ABZ    403:AB       403:AB        403:AB    403:AB    400:A          400:A           400:Z     -       401
api   tumor-assessments        list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   tumor-assessments        retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   tumor-assessments        history   200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   tumor-assessments        change    200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   tumor-assessments        void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   lesion-measurements      list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   lesion-measurements      retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   lesion-measurements      history   200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   lesion-measurements      change    200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   lesion-measurements      void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
admin tumor-lesions            list      ABZ        AB           AB            AB        AB        A              A               Z         403     login
admin tumor-lesions            view      200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     403     login
admin tumor-assessments        list      ABZ        AB           AB            AB        AB        A              A               Z         403     login
admin tumor-assessments        view      200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     403     login
# --- issue 22: data management (tests/access/datamanagement.py) ---
api   queries                  list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   queries                  retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   queries                  history   200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   queries                  create    201:ABZ    403:AB       201:AB        201:AB    403:AB    403:A          403:A           403:Z     -       401
api   queries                  answer    200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   queries                  close     200:ABZ    403:AB       200:AB        200:AB    403:AB    403:A          403:A           403:Z     -       401
api   data-locks               lock      200:ABZ    403:AB       200:AB        403:AB    403:AB    403:A          403:A           403:Z     -       401
api   sdv                      mark      201:ABZ    403:AB       403:AB        201:AB    403:AB    403:A          403:A           403:Z     -       401
api   signatures               sign      201:ABZ    403:AB       403:AB        403:AB    403:AB    403:A          201:A           403:Z     -       401
api   audit-trail              subject   200:ABZ    200:AB       200:AB        200:AB    403:AB    200:A          200:A           200:Z     -       401
api   audit-trail-study        study     200:SO     200:S        200:S         403:S     403:S     403:S          403:S           403:O     -       401
admin queries                  list      ABZ        AB           AB            AB        AB        A              A               Z         403     login
admin queries                  view      200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     403     login
admin queries                  history   200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       login
admin queries                  page      200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     403     login
admin queries                  answer    saved:ABZ  403:AB       403:AB        403:AB    403:AB    saved:A        saved:A         saved:Z   403     login
admin queries                  close     saved:ABZ  403:AB       saved:AB      saved:AB  403:AB    403:A          403:A           403:Z     403     login
admin query-raise              page      200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     403     login
admin query-raise              post      saved:ABZ  403:AB       saved:AB      saved:AB  403:AB    403:A          403:A           403:Z     403     login
# --- issue 18 (treatment) ---
api   exposures                list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   exposures                retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   exposures                history   200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   exposures                create    201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
api   exposures                change    200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   exposures                void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   end-of-treatment         list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   end-of-treatment         retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   end-of-treatment         change    200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   subject-end-of-treatment post      201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
admin exposures                list      ABZ        AB           AB            AB        AB        A              A               Z         403     login
admin exposures                view      200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     403     login
admin end-of-treatment         list      ABZ        AB           AB            AB        AB        A              A               Z         403     login
admin end-of-treatment         view      200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     403     login
# --- issue 20 (safety) ---
api   adverse-events           list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   adverse-events           retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   adverse-events           create    201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
api   adverse-events           void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   ae-proposals             list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   ae-proposals             retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   ae-proposals             dismiss   200:ABZ    403:AB       403:AB        403:AB    403:AB    403:A          200:A           403:Z     -       401
api   sae-report               list      200        200          200           200       200       200            200             200       200     401
api   safety-summary           retrieve  200:SO     200:S        200:S         200:S     200:S     200:S          200:S           200:O     -       401
admin adverse-events           list      ABZ        AB           AB            AB        AB        A              A               Z         403     login
admin adverse-events           view      200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     403     login
admin ae-proposals             list      ABZ        AB           AB            AB        AB        A              A               Z         403     login
admin ae-proposals             view      200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     403     login
admin sae-due                  list      200        200          200           200       200       200            200             200       403     login
admin safety-summary           list      200        200          200           200       200       200            200             200       403     login
api   visit-forms              retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   subject-forms            retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   form-door                retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   form-door                create    201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
api   missing-forms            retrieve  200:SO     200:S        200:S         200:S     200:S     200:S          200:S           200:O     -       401
# --- issue 18 (visits) ---
api   visit-record             post      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   visit-miss               post      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   subject-visits           schedule  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   deviations               list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
api   deviations               retrieve  200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     -       401
api   deviations               create    201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
api   deviations               review    200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   deviations               change    200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   deviations               void      200:ABZ    403:AB       403:AB        403:AB    403:AB    200:A          200:A           200:Z     -       401
api   unscheduled-visits       post      201:ABZ    403:AB       403:AB        403:AB    403:AB    201:A          201:A           201:Z     -       401
admin visit-record             page      200:ABZ    200:AB       200:AB        200:AB    200:AB    200:A          200:A           200:Z     403     login
admin visit-record             post      saved:ABZ  403:AB       403:AB        403:AB    403:AB    saved:A        saved:A         saved:Z   403     login
admin visit-miss               post      saved:ABZ  403:AB       403:AB        403:AB    403:AB    saved:A        saved:A         saved:Z   403     login
api   overdue-visits           list      ABZ        AB           AB            AB        AB        A              A               Z         -       401
admin overdue-visits           list      ABZ        AB           AB            AB        AB        A              A               Z         403     login
"""
# fmt: on
# The definitions rows stand for every trial-definition admin (studies/admin.py: one policy,
# ScopedDefinitions): a definition of study S or O; only a study administrator of that study or a
# superuser changes it, nobody deletes it. The CTCAE dictionary and the account events are read-only
# admin pages: superusers read them (staff only with the view permission, which no role grants).
# The subject journey's rows (issue 17) are the block after `admin users`; their actions are in
# tests/access/journey.py. disease-baseline and history-answers hold one row per subject, so their
# create is tested in tests/forms/ (a second one is refused there).
# --- issue 19 (h19b): the last five rows, form status and the registry's form door
# (tests/access/test_matrix.py, block "issue 19 (h19b)").


# --- issue 21: study endpoints and plots (h21b) ---
# A study's endpoints and plots (targets: studies S and O): a member of the study reads them (their
# sites' subjects only: tests/outcomes), anyone else gets the answer of a study that does not exist.
# fmt: off
TABLE += """api   study-endpoints          retrieve  200:SO     200:S        200:S         200:S     200:S     200:S          200:S           200:O     -       401
api   study-plot-png           retrieve  200:SO     200:S        200:S         200:S     200:S     200:S          200:S           200:O     -       401
api   study-plot-svg           retrieve  200:SO     200:S        200:S         200:S     200:S     200:S          200:S           200:O     -       401
admin study-endpoints          view      200:SO     200:S        200:S         200:S     200:S     200:S          200:S           200:O     -       login
admin study-plot               view      200:SO     200:S        200:S         200:S     200:S     200:S          200:S           200:O     -       login
"""
# fmt: on


def rows() -> list[tuple[str, str, str, dict[str, str]]]:
    """(door, resource, action, {actor: cell}) for every row of TABLE."""
    # Lines starting with "#" mark the blocks of later issues (`# --- <issue> ---`).
    lines = [line.split() for line in TABLE.strip().splitlines() if not line.lstrip().startswith("#")]
    header, body = lines[0], lines[1:]
    assert tuple(header[3:]) == ACTORS, "the table's columns must be ACTORS, in order"
    parsed = []
    for line in body:
        assert len(line) == len(header), f"row {line[:3]} has {len(line)} cells, not {len(header)}"
        door, resource, action, *cells = line
        parsed.append((door, resource, action, dict(zip(ACTORS, cells, strict=True))))
    return parsed
