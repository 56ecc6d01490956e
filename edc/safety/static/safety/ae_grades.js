// The AE page: when the investigator picks a CTCAE term in the autocomplete, the grade list becomes
// that term's grades with their CTCAE text (a grade NCI marks " -" does not exist for the term).
// The autocomplete's answer carries the grades (edc/core/admin_site.py, EdcAutocompleteJsonView); the
// server refuses a grade the term lacks whatever this script does.
'use strict';
window.addEventListener('DOMContentLoaded', function () {
    const $ = window.django && window.django.jQuery;
    if (!$) {
        return;
    }
    $(document).on('select2:select', '#id_ctcae_term', function (event) {
        const grades = event.params && event.params.data && event.params.data.grades;
        const select = document.getElementById('id_grade');
        if (!select || !Array.isArray(grades)) {
            return;
        }
        const kept = select.value;
        select.replaceChildren(new Option('---------', ''));
        for (const grade of grades) {
            select.add(new Option(grade.grade + ': ' + grade.text, String(grade.grade)));
        }
        select.value = grades.some(function (grade) { return String(grade.grade) === kept; }) ? kept : '';
    });
});
