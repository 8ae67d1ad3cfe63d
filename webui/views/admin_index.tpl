% rebase('base.tpl', title=_('Configuration'), back_path='/admin')
% include('admin_nav.tpl')
<h1>{{_('Configuration')}}</h1>
<p class="hint">{{_('Every change is checked against the whole configuration, as ccbox config import does, and applied to the running switch without dropping calls.')}}</p>
<table id="admin-overview">
<thead><tr><th>{{_('Area')}}</th><th>{{_('Entries')}}</th></tr></thead>
<tbody>
% for s, ui in ui.items():
<tr><td><a href="/admin/{{s}}">{{_(ui.title)}}</a></td><td>{{counts[s]}}</td></tr>
% end
<tr><td><a href="/admin/flows">{{_('IVR flows')}}</a></td><td>{{flows}}</td></tr>
<tr><td><a href="/admin/prompts">{{_('Prompts')}}</a></td><td>{{prompts}}</td></tr>
</tbody>
</table>
